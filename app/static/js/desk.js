/* CareCircle: the care team's desk. Loaded (defer) on the team inbox and on a conversation seen
   by the care team only. Plain JavaScript, no library, nothing from another site.

   - On a wide screen (1024 px and up) a row of the inbox opens its conversation in the right
     pane: the conversation's own page with ?pane=1, read through the same view, access rule and
     audit as the page itself. The address becomes /team/inbox?...&open=<patient>-<thread>, so
     Back and a reload show the same. On a phone, and without JavaScript, rows are plain links.
   - Forms in the pane are the page's own forms (same action, same fields, CSRF token included),
     sent with fetch so the inbox stays on screen; the pane and the list are then read again.
   - Keys: j / k next and previous row, o or Enter open it, t take, r reply box, e resolve,
     ? help. They never fire while someone types in a field (Esc leaves the field).
   The words it says come translated from the page (_desk_keys.html, data-say-*). */
(function () {
  'use strict';

  var WIDE = window.matchMedia('(min-width: 1024px)');
  var inbox = document.querySelector('[data-desk-inbox]');
  var pane = document.getElementById('desk-pane');
  var live = document.getElementById('desk-live');
  var help = document.getElementById('desk-help');
  var emptyPane = pane ? pane.innerHTML : '';
  var selected = -1;

  document.documentElement.classList.add('desk-keys-on');

  // ------------------------------------------------------------------ saying what happened

  function words(key, values) {
    var text = (live && live.getAttribute('data-say-' + key)) || '';
    Object.keys(values || {}).forEach(function (name) {
      text = text.split('{' + name + '}').join(String(values[name]));
    });
    return text;
  }

  function say(key, values) {
    sayText(words(key, values));
  }

  function sayText(text) {
    if (!live || !text) return;
    live.textContent = '';
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  // ------------------------------------------------------------------ the list

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('#desk-list .thread-row'));
  }

  function linkOf(row) {
    return row.querySelector('a.row-link');
  }

  function rowFor(key) {
    return rows().filter(function (row) { return row.getAttribute('data-open') === key; })[0];
  }

  function select(index, focus) {
    var list = rows();
    if (!list.length) return;
    selected = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row, i) { row.classList.toggle('is-selected', i === selected); });
    var link = linkOf(list[selected]);
    if (focus !== false) link.focus();
    say('position', { num: selected + 1, total: list.length });
  }

  function currentIndex() {
    var list = rows();
    var focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest('#desk-list .thread-row') : null;
    if (focused) return list.indexOf(focused);
    if (selected >= 0 && selected < list.length) return selected;
    return list.indexOf(document.querySelector('#desk-list .thread-row.is-open'));
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var at = currentIndex();
    select(at < 0 ? (step > 0 ? 0 : list.length - 1) : at + step);
  }

  function markOpen(key) {
    rows().forEach(function (row) {
      var on = row.getAttribute('data-open') === key;
      row.classList.toggle('is-open', on);
      if (on) linkOf(row).setAttribute('aria-current', 'true');
      else linkOf(row).removeAttribute('aria-current');
    });
  }

  function usePane() {
    return Boolean(inbox && pane && WIDE.matches);
  }

  function addressWith(key) {
    var url = new URL(window.location.href);
    if (key) url.searchParams.set('open', key);
    else url.searchParams.delete('open');
    return url.pathname + url.search;
  }

  function openRow(row, push) {
    var link = linkOf(row);
    if (!usePane()) {
      window.location.assign(link.href);
      return;
    }
    var key = row.getAttribute('data-open');
    selected = rows().indexOf(row);
    markOpen(key);
    if (push && new URL(window.location.href).searchParams.get('open') !== key) {
      window.history.pushState({ open: key }, '', addressWith(key));
    }
    load(link.getAttribute('data-pane'), { focus: true, row: row });
  }

  function openSelected() {
    var list = rows();
    var at = currentIndex();
    if (at >= 0 && list[at]) openRow(list[at], true);
  }

  // Read the inbox again (the same address) and put its list and navigation badge in place.
  function refreshList() {
    if (!inbox) return Promise.resolve();
    return fetch(window.location.href, { credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error('inbox ' + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var list = doc.getElementById('desk-list');
        var mine = document.getElementById('desk-list');
        if (list && mine) mine.innerHTML = list.innerHTML;
        var nav = doc.querySelector('.main-nav');
        var myNav = document.querySelector('.main-nav');
        if (nav && myNav) myNav.innerHTML = nav.innerHTML;
        var key = new URL(window.location.href).searchParams.get('open');
        markOpen(key);
        var list2 = rows();
        if (selected >= list2.length) selected = list2.length - 1;
        list2.forEach(function (row, i) { row.classList.toggle('is-selected', i === selected); });
      })
      .catch(function () { /* the list stays as it was; a reload shows the latest */ });
  }

  // ------------------------------------------------------------------ the pane

  function conversation() {
    if (inbox) return pane ? pane.querySelector('[data-conversation]') : null;
    return document.querySelector('[data-conversation]');
  }

  function showFailure(pageUrl) {
    var box = document.createElement('div');
    box.className = 'desk-pane-empty';
    var p = document.createElement('p');
    p.setAttribute('role', 'alert');
    p.textContent = words('failed');
    box.appendChild(p);
    if (pageUrl) {
      var a = document.createElement('a');
      a.className = 'button secondary';
      a.href = pageUrl;
      var row = rows().filter(function (r) { return linkOf(r).getAttribute('href') === pageUrl; })[0];
      a.textContent = row ? row.querySelector('.person-name').textContent : words('own-page');
      box.appendChild(a);
    }
    pane.replaceChildren(box);
    say('failed');
  }

  function pageOf(paneUrl) {
    var url = new URL(paneUrl, window.location.href);
    url.searchParams.delete('pane');
    return url.pathname + url.search;
  }

  function load(url, options) {
    options = options || {};
    if (!url) return Promise.resolve();
    pane.setAttribute('aria-busy', 'true');
    if (options.focus) say('loading');
    return fetch(url, { credentials: 'same-origin' })
      .then(function (response) {
        if (response.redirected) {
          // Signed out meanwhile (the session ended): the page itself asks to sign in.
          window.location.assign(pageOf(url));
          throw new Error('signed out');
        }
        if (!response.ok) throw new Error('pane ' + response.status);
        return response.text();
      })
      .then(function (html) {
        pane.innerHTML = html;
        pane.removeAttribute('aria-busy');
        if (options.row) {
          // Reading it in the pane read it (the page marks it read): no longer new.
          options.row.classList.remove('unread');
          var badge = options.row.querySelector('.unread-badge');
          if (badge) badge.remove();
        }
        afterLoad(options);
      })
      .catch(function () {
        pane.removeAttribute('aria-busy');
        showFailure(pageOf(url));
      });
  }

  function afterLoad(options) {
    var title = pane.querySelector('#convo-title');
    var flashes = pane.querySelector('[data-desk="flashes"]');
    if (options.latest) {
      var latest = pane.querySelector('#latest');
      if (latest) pane.scrollTop = latest.offsetTop + latest.offsetHeight - pane.clientHeight + 24;
    } else {
      pane.scrollTop = 0;
    }
    if (title && (options.focus || options.keepFocus)) title.focus({ preventScroll: true });
    if (flashes) sayText(flashes.textContent.trim());
    else if (options.focus) say('opened');
  }

  // A form of the open conversation, sent as a click would send it. A redirect means it was
  // done: read the conversation (with its message) and the list again. A page that says no
  // (409, 400) is shown above the conversation; a reply to fix (422) comes back as the pane.
  function sendFromPane(form) {
    var conv = conversation();
    var src = conv ? conv.getAttribute('data-pane') : null;
    var buttons = form.querySelectorAll('button');
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    var isReply = form.getAttribute('data-desk') === 'reply' || form.getAttribute('data-desk') === 'note';
    return fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      credentials: 'same-origin',
      redirect: 'manual',
    })
      .then(function (response) {
        if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
          return Promise.all([load(src, { keepFocus: true, latest: isReply }), refreshList()]);
        }
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var again = doc.querySelector('[data-conversation]');
          if (again) {
            pane.replaceChildren(document.importNode(again, true));
            var summary = pane.querySelector('.error-summary');
            var field = pane.querySelector('[aria-invalid="true"]');
            if (field) field.focus();
            if (summary) sayText(summary.textContent.trim());
            return null;
          }
          var refusal = doc.querySelector('.error-summary') || doc.querySelector('main h1');
          return Promise.all([load(src, { keepFocus: true }), refreshList()]).then(function () {
            if (!refusal) return;
            var note = document.createElement('div');
            note.className = 'error-summary';
            note.setAttribute('role', 'alert');
            note.textContent = refusal.textContent.trim();
            pane.prepend(note);
          });
        });
      })
      .catch(function () {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        showFailure(src ? pageOf(src) : null);
      });
  }

  function send(form) {
    if (form.requestSubmit) form.requestSubmit();
    else if (inbox) sendFromPane(form);
    else form.submit();
  }

  // ------------------------------------------------------------------ the shortcuts

  function take() {
    var conv = conversation();
    if (!conv) return say('open-first');
    var form = conv.querySelector('form[data-desk="take"]');
    if (form) return send(form);
    if (conv.querySelector('form[data-desk="take-over"]')) return say('taken');
    say('mine');
  }

  function resolve() {
    var conv = conversation();
    if (!conv) return say('open-first');
    var form = conv.querySelector('form[data-desk="resolve"]');
    if (form) return send(form);
    say('resolved');
  }

  function reply() {
    var conv = conversation();
    var box = conv ? conv.querySelector('form[data-desk="reply"] textarea') : null;
    if (!box) return say('open-first');
    box.focus();
    say('reply');
  }

  function showHelp() {
    if (help && !help.open) help.showModal();
  }

  function typing(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
    if (tag !== 'INPUT') return false;
    return ['checkbox', 'radio', 'button', 'submit', 'reset', 'hidden'].indexOf(el.type) < 0;
  }

  document.addEventListener('keydown', function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (typing(target)) {
      if (event.key === 'Escape') target.blur();
      return;
    }
    if (help && help.open) return; // the dialog's own keys (Esc closes it)
    switch (event.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case 'o': openSelected(); break;
      case 'Enter':
        // Enter on a link or button does what it does; elsewhere it opens the chosen row.
        if (target.closest && target.closest('a, button, summary')) return;
        if (!rows().length) return;
        openSelected();
        break;
      case 't': take(); break;
      case 'r': reply(); break;
      case 'e': resolve(); break;
      case '?': showHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  var helpButton = document.querySelector('[data-desk="help"]');
  if (helpButton && help) {
    helpButton.hidden = false;
    helpButton.addEventListener('click', showHelp);
  }

  if (!inbox || !pane) return;

  // ------------------------------------------------------------------ the inbox's two panes

  document.addEventListener('click', function (event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest && event.target.closest('#desk-list a.row-link');
    if (link && usePane()) {
      event.preventDefault();
      openRow(link.closest('.thread-row'), true);
      return;
    }
    var more = event.target.closest && event.target.closest('#desk-pane a[data-pane-link]');
    if (more) {
      event.preventDefault();
      load(more.getAttribute('data-pane-link'), { keepFocus: true });
    }
  });

  pane.addEventListener('submit', function (event) {
    var form = event.target;
    if ((form.getAttribute('method') || '').toLowerCase() !== 'post') return;
    event.preventDefault();
    sendFromPane(form);
  });

  window.addEventListener('popstate', function () {
    var key = new URL(window.location.href).searchParams.get('open');
    if (!key) {
      markOpen(null);
      pane.innerHTML = emptyPane;
      return;
    }
    var row = rowFor(key);
    if (row) openRow(row, false);
    else window.location.reload();
  });

  var first = pane.getAttribute('data-pane-src');
  if (first && usePane()) {
    var firstKey = new URL(window.location.href).searchParams.get('open');
    markOpen(firstKey);
    var firstRow = rowFor(firstKey);
    selected = rows().indexOf(firstRow);
    load(first, { row: firstRow });
  }
})();
