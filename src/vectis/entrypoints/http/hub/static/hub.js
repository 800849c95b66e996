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

// A form sent once is not sent again by a second click: its buttons wait for the answer. (The
// server makes the change once per submission key anyway; this spares the tech the doubt.)
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
  if (form.method.toLowerCase() !== "post") return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  for (const button of form.querySelectorAll('button[type="submit"], button:not([type])')) {
    button.setAttribute("aria-disabled", "true");
    button.classList.add("sending");
  }
});

// Back on a page already sent from (the browser's history), each form is a new submission:
// fresh keys, so a corrected form is sent as a new change, and its buttons work again.
window.addEventListener("pageshow", (event) => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const fromHistory = event.persisted || (navigation && navigation.type === "back_forward");
  if (!fromHistory) return;
  for (const form of document.querySelectorAll("form[data-sending]")) {
    delete form.dataset.sending;
    for (const button of form.querySelectorAll(".sending")) {
      button.removeAttribute("aria-disabled");
      button.classList.remove("sending");
    }
  }
  for (const field of document.querySelectorAll('input[name="submission_key"]')) {
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    field.value = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
  }
});
