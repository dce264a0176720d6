() => {
  const bad = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.classList.contains('skip-link')) continue;           // shown only on focus
    if (el.closest('.visually-hidden')) continue;
    // a checkbox counts with its label, which is the tap target
    const target = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label') ? el.closest('label').getBoundingClientRect() : r;
    if (target.height < 44 || target.width < 44) bad.push(`${el.tagName} "${(el.innerText || el.name || el.id || '').trim().slice(0, 40)}" ${Math.round(target.width)}x${Math.round(target.height)}`);
  }
  return bad;
}
