// modelrun: a little progressive enhancement. Every page works without it.
"use strict";

// Pickers that submit their form as soon as they change; their button is
// only needed without script.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}
for (const button of document.querySelectorAll("[data-hide-with-js]")) {
  button.hidden = true;
}

// Forms that ask before doing something that cannot be undone.
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
}

// A run's log opens at its end: the latest lines are the ones to read.
for (const log of document.querySelectorAll("pre.log[data-follow]")) {
  log.scrollTop = log.scrollHeight;
}

// A run page refreshes its live part while the run is active.
const live = document.getElementById("run-live");
if (live && live.dataset.live === "true") {
  const refresh = async () => {
    try {
      const response = await fetch(window.location.href, {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      if (!response.ok) {
        return true;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("run-live");
      if (!fresh) {
        return false;
      }
      const log = live.querySelector("pre.log");
      const atBottom = !log || log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      live.replaceChildren(...fresh.childNodes);
      live.dataset.live = fresh.dataset.live;
      document.title = page.title;
      const newLog = live.querySelector("pre.log");
      if (newLog && atBottom) {
        newLog.scrollTop = newLog.scrollHeight;
      }
      return fresh.dataset.live === "true";
    } catch {
      return true;
    }
  };
  const loop = async () => {
    if (await refresh()) {
      window.setTimeout(loop, 2000);
    } else {
      // The run ended: reload once so that every part of the page is final.
      window.location.reload();
    }
  };
  window.setTimeout(loop, 2000);
}

// The server shows times in the browser's time zone unless the account
// chose one; it learns the zone from this cookie.
try {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && !document.cookie.split("; ").includes(`modelrun_tz=${zone}`)) {
    document.cookie = `modelrun_tz=${zone}; Path=/; Max-Age=31536000; SameSite=Lax`;
  }
} catch (_) {
  // Without Intl the pages stay in UTC, labelled as such.
}
