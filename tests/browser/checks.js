// Page checks the browser tests evaluate (tests/test_browser.py): overflow, contrast, landmarks and names.
// Each returns a list of problems, empty when there are none.
const NF = {
  // What sticks out past the viewport's right edge: the page's scroll width, and visible boxes ending past it.
  overflow() {
    const width = document.documentElement.clientWidth, out = [];
    const scroll = document.documentElement.scrollWidth;
    if (scroll > width) out.push(`page scrollWidth ${scroll} > ${width}`);
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      if (!box.width || getComputedStyle(el).visibility === "hidden" || el.closest(".visually-hidden")) continue;
      if (el.closest("details:not([open]) > :not(summary)")) continue;
      if (box.right > width + 0.5 && !el.closest(".timeline")) {
        out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)} > ${width}`);
      }
    }
    return out.slice(0, 10);
  },

  // Text below WCAG AA contrast against its opaque background: 4.5:1, or 3:1 for large text.
  contrast() {
    const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = el => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
      const el = node.parentElement;
      if (!node.textContent.trim() || !el.getClientRects().length || el.closest(".visually-hidden")) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden") continue;
      const fg = rgb(style.color).slice(0, 3), bg = background(el);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) {
        out.push(`${el.tagName.toLowerCase()}.${el.className} "${node.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
      }
    }
    return out.slice(0, 10);
  },

  // The landmarks every page has (banner, search, main, contentinfo), a name for every control and link.
  landmarks() {
    const out = [];
    for (const sel of ["header.site", "form[role=search]", "main#main", "footer.site"]) {
      const n = document.querySelectorAll(sel).length;
      if (n !== 1) out.push(`landmark ${sel}: ${n}`);
    }
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea, button")) {
      const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
        || el.getAttribute("aria-labelledby") || (el.tagName === "BUTTON" && el.textContent.trim());
      if (!named) out.push(`unnamed ${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
    }
    for (const a of document.querySelectorAll("a[href]")) {
      if (!(a.getAttribute("aria-label") || a.textContent.trim())) out.push(`unnamed link ${a.href}`);
    }
    if (!document.documentElement.lang) out.push("no lang");
    return out;
  },

  // The element that has focus draws a visible outline (or box shadow).
  focusShown() {
    const el = document.activeElement;
    if (!el || el === document.body) return ["nothing focused"];
    const style = getComputedStyle(el);
    const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
    return outlined || style.boxShadow !== "none" ? [] : [`no focus ring on ${el.tagName.toLowerCase()}.${el.className}`];
  },
};
