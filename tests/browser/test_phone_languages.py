"""Seven languages on a 360 x 740 phone, in real Chromium (issue 16): the main pages of each
demo role (patient, caregiver, care team), visited in en es vi ru zh ar so, never scroll
sideways, no text spills out of or is cut off by its box (long Russian, Somali and Vietnamese
words, Chinese without spaces), no word is cut in two at a line's end, nothing hides behind the
tab bar, every tap target is 44 px, axe-core finds nothing serious (en es ar zh), and
<html lang>/<html dir> say the language. James reads in larger text (the demo's choice),
which makes it harder.
One test per language, so pytest-xdist spreads them; one browser context per language, its
people signed in one after the other.

Arabic reads right to left: the tab bar, the arrows, the trend chart, the progress bar and
names inside translated sentences are checked where they are drawn.

The words themselves (no English leftovers) are checked page by page with the test client in
tests/i18n; this is what a phone shows.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from config import Config
from tests.browser.test_main_action import sign_in

TAP_TARGETS_JS = (Path(__file__).parent / "tap_targets.js").read_text()
LANGUAGES = list(Config.LANGUAGES)  # every shipped language
WIDTH = 360

JAMES = "james@demo.carecircle.test"
ANA = "ana@demo.carecircle.test"
NURSE = "nurse@demo.carecircle.test"

#: Lines that are cut short on purpose, with the whole of them one tap away.
TRUNCATED_BY_DESIGN = [
    ".tile-main .meta",  # Home: the appointment's with whom and where (all of it on its page)
]

#: Text that spills out of its box or is cut off by it, or lies off the screen. Only boxes that
#: hold text themselves are measured (a form whose save bar bleeds into the card's padding is
#: not text overflowing); boxes meant to scroll sideways (overflow-x auto/scroll: the staff's
#: one-row menus) and words for screen readers only are left out.
OVERFLOW_JS = """(designed) => {
  const scrolls = (el) => {
    for (let n = el; n && n !== document.body; n = n.parentElement) {
      const x = getComputedStyle(n).overflowX;
      if (x === 'auto' || x === 'scroll') return true;
    }
    return false;
  };
  const holdsText = (el) => [...el.childNodes].some(n =>
    (n.nodeType === 3 && n.textContent.trim() !== '') ||
    (n.nodeType === 1 && getComputedStyle(n).display === 'inline' && n.textContent.trim() !== ''));
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg, select, .visually-hidden, script, style, template, noscript')) continue;
    if (['INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'IMG', 'PROGRESS'].includes(el.tagName)) continue;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden' || s.display === 'inline') continue;
    if (el.clientWidth <= 1 || !holdsText(el) || designed.some(sel => el.matches(sel))) continue;
    const r = el.getBoundingClientRect();
    const spills = el.scrollWidth > el.clientWidth + 1 && !scrolls(el);
    const offScreen = s.position !== 'fixed' && (r.right > window.innerWidth + 1 || r.left < -1)
      && !scrolls(el.parentElement);
    if (!spills && !offScreen) continue;
    const name = el.tagName.toLowerCase() + (typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    const text = (el.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
    bad.push(`${name} "${text}" box ${Math.round(r.left)}..${Math.round(r.right)}, ` +
      `text ${el.scrollWidth}px in ${el.clientWidth}px`);
  }
  return bad;
}"""

#: Words cut in two at the end of a line ("непрочита-/нное"): a word is broken when its letters
#: sit on more than one line. Breaks after a hyphen or slash are fine, and so are web addresses;
#: Chinese breaks anywhere.
BROKEN_WORDS_JS = """() => {
  const found = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('svg, select, script, style, .visually-hidden, [hidden]')) continue;
    if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    if (/^\\s*(https?:|www\\.)/.test(node.data)) continue;  // an address breaks where it must
    const re = /[^\\s\\-\\u2010-\\u2014\\/·]{2,}/g;
    for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
      if (/[\\u3000-\\u9fff\\uff00-\\uffef]/.test(m[0])) continue;
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      const tops = new Set(rects.map(r => Math.round(r.top)));
      if (tops.size > 1) found.add(`"${m[0]}" in ${el.tagName.toLowerCase()}.${el.className}`);
    }
  }
  return [...found];
}"""


#: Nothing hides behind the fixed tab bar: the page keeps room for all of it at its end.
TABBAR_ROOM_JS = """() => {
  const bar = document.querySelector('.tabbar');
  if (!bar || getComputedStyle(bar).position !== 'fixed') return null;
  const room = parseFloat(getComputedStyle(document.body).paddingBottom);
  const height = bar.getBoundingClientRect().height;
  if (height <= room + 1) return null;
  return `the tab bar (${height}px) is taller than the room kept for it (${room}px)`;
}"""


def demo_pages(app) -> dict[str, list[str]]:
    """The pages to visit, per person, found in the demo data by what they are (not by id)."""
    import sqlalchemy as sa

    from app.auth.models import User
    from app.careplan.decisions.models import Decision
    from app.careplan.goals.models import Goal, GoalCheckIn
    from app.careplan.items.models import ItemKind, PlanItem
    from app.extensions import db
    from app.messaging.models import Thread
    from app.patients.models import Patient

    with app.app_context():
        pid = db.session.scalar(
            sa.select(Patient.id).join(User, User.id == Patient.user_id).where(User.email == JAMES)
        )
        items = db.session.execute(
            sa.select(PlanItem.kind, sa.func.min(PlanItem.id))
            .where(PlanItem.patient_id == pid)
            .group_by(PlanItem.kind)
        ).all()
        charted = db.session.scalar(
            sa.select(Goal.id)
            .join(GoalCheckIn, GoalCheckIn.goal_id == Goal.id)
            .where(Goal.patient_id == pid, GoalCheckIn.value.is_not(None))
            .group_by(Goal.id)
            .having(sa.func.count() > 1)
            .order_by(Goal.id)
            .limit(1)
        )
        decision = db.session.scalar(
            sa.select(sa.func.min(Decision.id)).where(Decision.patient_id == pid)
        )
        thread = db.session.scalar(
            sa.select(sa.func.min(Thread.id)).where(Thread.patient_id == pid)
        )
        form_item = dict(items)[ItemKind.TEST]
    record = f"/patients/{pid}"
    return {
        JAMES: [
            f"{record}/home",
            f"{record}/plan",
            *(f"{record}/plan/items/{item_id}" for _kind, item_id in sorted(items)),
            f"{record}/goals",
            f"{record}/goals/{charted}",
            f"{record}/decisions/{decision}",
            f"{record}/messages",
            f"{record}/messages/{thread}",
            f"{record}/messages/new",
            f"{record}/more",
            f"{record}/preferences",
            f"{record}/reminders",
            f"{record}/caregivers",
            f"{record}/access-log",
        ],
        ANA: ["/", "/caregivers/"],
        NURSE: [
            "/team/inbox",
            record,
            f"{record}/messages/{thread}",
            f"{record}/plan/items/{form_item}/edit",
            f"{record}/plan/new/appointment",
        ],
    }


@contextmanager
def reading(app, emails, language: str):
    """These people read `language` (their saved choice wins over the browser's); put back."""
    import sqlalchemy as sa

    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        before = {
            email: locale
            for email, locale in db.session.execute(
                sa.select(User.email, User.locale).where(User.email.in_(emails))
            )
        }
        db.session.execute(sa.update(User).where(User.email.in_(emails)).values(locale=language))
        db.session.commit()
    try:
        yield
    finally:
        with app.app_context():
            for email, locale in before.items():
                db.session.execute(sa.update(User).where(User.email == email).values(locale=locale))
            db.session.commit()


#: axe-core (half of each page's time) in a left-to-right Latin script twice, right to left and
#: Chinese: the other languages share their templates, colours and roles; every other check
#: runs in all seven.
AXE_LANGUAGES = frozenset({"en", "es", "ar", "zh"})


def problems_on(page, language: str) -> list[str]:
    """What is wrong with the page as a phone shows it (empty: nothing)."""
    from axe_playwright_python.sync_playwright import Axe

    found = []
    lang, direction = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    if lang != language or direction != ("rtl" if language == "ar" else "ltr"):
        found.append(f"<html lang={lang} dir={direction}>")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH:
        found.append(f"scrolls sideways: {width}px")
    found += [f"text overflows: {e}" for e in page.evaluate(OVERFLOW_JS, TRUNCATED_BY_DESIGN)]
    found += [f"word broken across lines: {w}" for w in page.evaluate(BROKEN_WORDS_JS)]
    if room := page.evaluate(TABBAR_ROOM_JS):
        found.append(room)
    # "Skip to main content" waits above the screen until focused, however many lines it takes.
    if page.evaluate("document.querySelector('.skip-link').getBoundingClientRect().bottom") > 0:
        found.append("the skip link shows before it is focused")
    found += [f"small tap target: {e}" for e in page.evaluate(TAP_TARGETS_JS)]
    if language not in AXE_LANGUAGES:
        return found
    for v in Axe().run(page).response["violations"]:
        if v["impact"] in ("serious", "critical"):
            found.append(f"axe {v['id']}: {[n['target'] for n in v['nodes']][:3]}")
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_main_page_fits_a_phone_in_each_language(chromium, live_server, language):
    pages = demo_pages(live_server.app)
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 740},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale=language,
    )
    page = context.new_page()
    problems = []
    try:
        with reading(live_server.app, list(pages), language):
            for who, paths in pages.items():
                context.clear_cookies()
                sign_in(page, live_server, who)
                for path in paths:
                    response = page.goto(live_server + path)
                    if response.status != 200:
                        problems.append(f"{who} {path}: HTTP {response.status}")
                        continue
                    problems += [f"{who} {path}: {p}" for p in problems_on(page, language)]
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def ends(box) -> tuple[float, float]:
    return box["x"], box["x"] + box["width"]


def mirrored(icon) -> bool:
    """The icon is drawn flipped left to right (a11y.css: `[dir="rtl"] svg.icon-dir`)."""
    return icon.evaluate("e => getComputedStyle(e).transform") == "matrix(-1, 0, 0, 1, 0, 0)"


def text_x(locator, text: str) -> float:
    """Where `text` (a part of the element's words) is drawn, from the left."""
    return locator.evaluate(
        """(el, text) => {
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const at = n.data.indexOf(text);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(n, at); range.setEnd(n, at + text.length);
            return range.getBoundingClientRect().left;
          }
          return null;
        }""",
        text,
    )


def test_arabic_reads_right_to_left(chromium, live_server):
    """What mirrors in Arabic, measured where it is drawn: the tab bar starts at the right, the
    arrows point the way Arabic reads, the progress bar fills from the right, the trend chart's
    time runs from right to left with its numbers on the right, and someone's name or phone
    number inside an Arabic sentence keeps its place and its order."""
    from io import BytesIO

    from PIL import Image

    pages = demo_pages(live_server.app)
    home, more, reminders = (
        next(p for p in pages[JAMES] if p.endswith(end)) for end in ("/home", "/more", "/reminders")
    )
    goal = next(p for p in pages[JAMES] if "/goals/" in p)  # one with a trend chart
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 740}, device_scale_factor=1, is_mobile=True, locale="ar"
    )
    page = context.new_page()
    try:
        with reading(live_server.app, [JAMES, ANA], "ar"):
            sign_in(page, live_server, JAMES)
            page.goto(live_server + home)
            assert page.evaluate("[document.documentElement.lang, document.dir]") == ["ar", "rtl"]

            # The tab bar: Home (first in reading order) at the right end, then leftwards.
            tabs = [ends(tab.bounding_box()) for tab in page.locator(".tabbar li").all()]
            assert len(tabs) == 5
            assert tabs[0][1] == pytest.approx(WIDTH, abs=1), tabs
            assert [left for left, _ in tabs] == sorted((left for left, _ in tabs), reverse=True)
            assert tabs[-1][0] == pytest.approx(0, abs=1), tabs

            # "See the week >" points on (left), after its words (to their left).
            week = page.locator(".tile-foot a:has(svg.icon-dir)").first
            arrow = week.locator("svg.icon-dir")
            assert mirrored(arrow)
            assert ends(arrow.bounding_box())[1] <= text_x(week, week.inner_text().strip()) + 1

            # Whose record it is: the name isolated from the Arabic around it.
            assert page.locator(".whose bdi").count() == 1
            assert page.locator(".whose bdi").inner_text() == "Jim"

            # More: each row's chevron at the row's left end (where the row leads), mirrored.
            page.goto(live_server + more)
            row = page.locator(".menu-list a").first
            chevron, words = row.locator("svg.chevron"), row.locator("span").first
            assert ends(chevron.bounding_box())[1] <= ends(words.bounding_box())[0] + 1
            assert mirrored(chevron)

            page.goto(live_server + goal)
            # "< All goals" goes back: its arrow points right, before its words (to their right).
            back = page.locator(".back-link a")
            arrow, words = back.locator("svg.icon-dir"), back.locator("span")
            assert mirrored(arrow)
            assert ends(arrow.bounding_box())[0] >= ends(words.bounding_box())[1] - 1

            # The progress bar fills from the right: brand green at its right end, the pale
            # track at its left (the demo goal is part way).
            bar = Image.open(BytesIO(page.locator(".goal-progress").screenshot())).convert("RGB")
            mid = bar.height // 2
            right, left = bar.getpixel((bar.width - 8, mid)), bar.getpixel((8, mid))
            assert right[1] < 140 and right[0] < 60, f"the right end is not filled: {right}"
            assert min(left) > 200, f"the left end is filled: {left}"

            # The trend chart: time runs from right to left (the oldest check-in at the right),
            # the numbers' axis on the right, the first date under the right end and the last
            # under the left; all of it inside the chart.
            chart = page.locator("svg.goal-chart")
            assert chart.get_attribute("direction") == "rtl"
            box = ends(chart.bounding_box())
            xs = [ends(c.bounding_box())[0] for c in chart.locator("circle.goal-point").all()]
            assert len(xs) > 1 and xs == sorted(xs, reverse=True), xs
            values = [ends(t.bounding_box()) for t in chart.locator("text.goal-chart-value").all()]
            assert values and all(left > max(xs) for left, _ in values), (values, xs)
            first = ends(chart.locator("text.goal-chart-first").bounding_box())
            last = ends(chart.locator("text.goal-chart-last").bounding_box())
            assert first[0] > last[1], (first, last)
            for left, right_end in (*values, first, last):
                assert box[0] - 1 <= left and right_end <= box[1] + 1, (box, left, right_end)
            # Dates as Babel writes them in Arabic (day/month/year with right-to-left marks,
            # so they read the same way as the sentence around them).
            assert "\u200f" in chart.locator("text.goal-chart-first").inner_html()

            # A phone number inside Arabic words keeps its order: "(503) 555-0102".
            page.goto(live_server + reminders)
            number = page.locator("main bdi[dir=ltr]").first
            digits = number.inner_text()
            assert digits.startswith("(") and digits.count(" ") == 1, digits
            area, line = digits.split(" ")
            assert text_x(number, area) < text_x(number, line)

            # A caregiver: "Acting for Jim", the name where the Arabic sentence ends (left).
            context.clear_cookies()
            sign_in(page, live_server, ANA)
            page.goto(live_server + home)
            note = page.locator(".whose > span")
            name = note.locator("bdi")
            assert name.inner_text() == "Jim"
            assert abs(ends(name.bounding_box())[0] - ends(note.bounding_box())[0]) <= 2
    finally:
        context.close()
