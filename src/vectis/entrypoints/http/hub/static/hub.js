// Progressive enhancement only: every page works without this file.
"use strict";

// Filters apply as soon as a choice changes (the Apply button stays for keyboards and no-JS).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.requestSubmit();
  }
});

// Choosing dates in the timeline's range selects the "Range" period.
document.addEventListener("input", (event) => {
  const field = event.target;
  if (field instanceof HTMLInputElement && field.type === "date" && field.form) {
    const range = field.form.querySelector('input[name="period"][value="range"]');
    if (range) range.checked = true;
  }
});

// Forms that change another system ask first (data-confirm holds the question).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// The customer tabs answer the arrow keys, Home and End, as tab strips do.
document.addEventListener("keydown", (event) => {
  const link = event.target;
  const strip = link instanceof HTMLAnchorElement ? link.closest("nav.tabs") : null;
  if (!strip) return;
  const links = Array.from(strip.querySelectorAll("a"));
  const at = links.indexOf(link);
  const next = {
    ArrowRight: links[(at + 1) % links.length],
    ArrowLeft: links[(at - 1 + links.length) % links.length],
    Home: links[0],
    End: links[links.length - 1],
  }[event.key];
  if (next) {
    event.preventDefault();
    next.focus();
  }
});
