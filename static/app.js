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

// Forms that ask before doing something that cannot be undone: their
// data-confirm is the question. Asked on the document, so that forms a
// page's live part brings in later (a run's Cancel) ask too. A yes adds
// confirmed=1, which the server asks for; without script it asks on a
// page of its own instead.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) {
    return;
  }
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (!form.querySelector("input[name=confirmed]")) {
    const confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "confirmed";
    confirmed.value = "1";
    form.append(confirmed);
  }
});

// Filters folded behind their summary unfold where there is room for
// them; on a phone they stay folded until asked for.
for (const details of document.querySelectorAll("details[data-open-wide]")) {
  details.open = window.matchMedia("(min-width: 40rem)").matches;
}

// A run's log opens at its end: the latest lines are the ones to read.
for (const log of document.querySelectorAll("pre.log[data-follow]")) {
  log.scrollTop = log.scrollHeight;
}

// A sweep's compare form takes 2 to 4 runs: its button waits for them,
// and what is ticked stays ticked when the page's live part refreshes.
const tickedRuns = () =>
  [...document.querySelectorAll("#compare-form input[name=runs]:checked")].map((box) => box.value);
const updateCompare = () => {
  const form = document.getElementById("compare-form");
  if (!form) {
    return;
  }
  const ticked = tickedRuns().length;
  const [min, max] = [Number(form.dataset.min), Number(form.dataset.max)];
  form.querySelector("button[type=submit]").disabled = ticked < min || ticked > max;
  const note = document.getElementById("compare-note");
  if (note) {
    note.textContent =
      ticked > max
        ? `${ticked} runs are ticked; compare takes at most ${max}.`
        : `Tick ${min} to ${max} runs (${ticked} ticked).`;
  }
};
document.addEventListener("change", (event) => {
  if (event.target instanceof Element && event.target.closest("#compare-form")) {
    updateCompare();
  }
});
updateCompare();

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
      const ticked = tickedRuns();
      // A section a person opened ("All events") stays open.
      const opened = [...live.querySelectorAll("details[id][open]")].map((d) => d.id);
      live.replaceChildren(...fresh.childNodes);
      for (const id of opened) {
        const details = document.getElementById(id);
        if (details) {
          details.open = true;
        }
      }
      live.dataset.live = fresh.dataset.live;
      for (const box of live.querySelectorAll("#compare-form input[name=runs]")) {
        box.checked = ticked.includes(box.value);
      }
      updateCompare();
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

// A file input sends its file as soon as it is chosen: straight to the
// bucket where the server signs uploads (AWS), else to this server, after
// announcing its size and SHA-256. The form then carries only the upload's
// id. Without script, or where the page cannot hash (crypto.subtle needs
// HTTPS or localhost), the form sends the file itself (on one machine).
// A file the store refuses is not sent with the form: the status says why.
const hex = (buffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
for (const input of document.querySelectorAll("input[type=file][data-upload]")) {
  const form = input.form;
  const kept = form.querySelector(`input[type=hidden][data-upload-for="${input.id}"]`);
  const status = document.getElementById(`status-${input.name}`);
  if (!kept || !status || !window.fetch || !window.crypto || !window.crypto.subtle) {
    continue;
  }
  const name = input.name;
  // What the form held before a file was chosen: an earlier run's file, or none.
  const before = kept.value;
  const keptNote = document.getElementById(`kept-${name}`);
  // The form carries the upload's id, never the file.
  input.removeAttribute("name");
  input.addEventListener("change", async () => {
    const file = input.files[0];
    kept.value = before;
    if (keptNote) {
      keptNote.hidden = false;
    }
    if (!file) {
      status.textContent = "";
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    status.textContent = `Uploading ${file.name}…`;
    try {
      const sha256 = hex(await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
      const announced = await fetch("/uploads", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ name: file.name, bytes: file.size, sha256, media_type: file.type || null }),
      });
      const answer = await announced.json().catch(() => ({}));
      if (!announced.ok) {
        const refusal = answer.error || {};
        const field = (refusal.fields || [])[0];
        throw new Error(field ? `its ${field.field} ${field.message}` : refusal.message || announced.statusText);
      }
      const sent = await fetch(answer.send.url, {
        method: answer.send.method,
        headers: answer.send.headers,
        body: file,
      });
      if (!sent.ok) {
        throw new Error(`the store refused it (${sent.status})`);
      }
      kept.value = answer.upload;
      if (keptNote) {
        keptNote.hidden = true;
      }
      const drop = form.querySelector(`input[name=_drop][value="${name}"]`);
      if (drop) {
        drop.checked = false;
      }
      status.textContent = `Uploaded ${file.name}; it is used when you submit the run.`;
    } catch (error) {
      input.value = "";
      status.textContent = `${file.name} was not uploaded: ${error.message}. Choose a file again.`;
    } finally {
      submit.disabled = false;
    }
  });
}

// The form's cost estimate follows the resources asked for in "Advanced:
// resources": the same arithmetic as the server's (vCPU × price per
// vCPU-hour + GiB × price per GiB-hour, × hours), which submission records.
const estimate = document.getElementById("estimate");
if (estimate && Number(estimate.dataset.vcpuHour) > 0) {
  const median = estimate.querySelector("[data-estimate-median]");
  const p90 = estimate.querySelector("[data-estimate-p90]");
  const vcpuBox = document.getElementById("res-vcpu");
  const memoryBox = document.getElementById("res-memory_mib");
  const dollars = (amount) =>
    amount > 0 && amount < 0.01
      ? `$${amount.toFixed(1 - Math.floor(Math.log10(amount)))}`
      : `$${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const update = () => {
    const vcpu = Number(vcpuBox.value);
    const gib = Number(memoryBox.value) / 1024;
    if (!median || !p90 || !(vcpu > 0) || !(gib > 0)) {
      return;
    }
    const perHour = vcpu * Number(estimate.dataset.vcpuHour) + gib * Number(estimate.dataset.gibHour);
    median.textContent = dollars((perHour * Number(estimate.dataset.medianSeconds)) / 3600);
    p90.textContent = dollars((perHour * Number(estimate.dataset.p90Seconds)) / 3600);
  };
  for (const box of [vcpuBox, memoryBox]) {
    if (box) {
      box.addEventListener("input", update);
    }
  }
}

// A sweep from the run form: how many runs the "Vary" sections make (the
// product of each varied input's count of values), said before submitting,
// with the estimate multiplied. The server counts again and refuses a grid
// over the maximum; this is only a preview.
const runForm = document.querySelector("form.run-form");
const sweepSize = document.getElementById("sweep-size");
if (runForm && sweepSize) {
  const submitButton = document.getElementById("submit-run");
  const max = Number(runForm.dataset.maxSweepRuns);
  const read = (box) => (box ? Number(box.value.trim().replace(",", ".")) : NaN);
  // How many values a Vary section gives, or what keeps it from giving
  // any: the server's rules, so the count shown is one it accepts.
  const countOf = (section) => {
    const ticked = section.querySelectorAll("input[type=checkbox]:checked").length;
    if (ticked > 0) {
      return { count: ticked };
    }
    const lines = section.querySelector("[data-part=values]");
    const listed = lines ? lines.value.split("\n").map((line) => line.trim()).filter((line) => line !== "") : [];
    const parts = ["from", "to", "step"].map((part) => section.querySelector(`[data-part=${part}]`));
    const typed = parts.filter((box) => box && box.value.trim() !== "");
    if (typed.length > 0 && listed.length > 0) {
      return { problem: "take a range or values, not both" };
    }
    if (listed.length > 0) {
      return new Set(listed).size < listed.length ? { problem: "list a value twice" } : { count: listed.length };
    }
    if (typed.length === 0) {
      return { count: 0 };
    }
    const [from, to, step] = parts.map(read);
    if (typed.length < 3 || ![from, to, step].every(Number.isFinite)) {
      return { problem: "need a number in each of From, To and Step" };
    }
    if (step <= 0) {
      return { problem: "need a Step above 0" };
    }
    if (to < from) {
      return { problem: "need To to be at least From" };
    }
    return { count: Math.floor((to - from) / step + 1e-9) + 1 };
  };
  // A budget a sweep of `runs` would cross, said as a single run's is.
  const warnBudgets = (runs) => {
    const vcpu = Number(document.getElementById("res-vcpu")?.value);
    const gib = Number(document.getElementById("res-memory_mib")?.value) / 1024;
    const perRun = estimate
      ? ((vcpu * Number(estimate.dataset.vcpuHour) + gib * Number(estimate.dataset.gibHour)) *
          Number(estimate.dataset.medianSeconds)) / 3600
      : 0;
    for (const budget of document.querySelectorAll("[data-sweep-budget]")) {
      const total = runs * perRun;
      const crosses = runs > 1 && total > 0 && total > Number(budget.dataset.budgetLeft);
      budget.hidden = !crosses;
      budget.textContent = crosses
        ? `This sweep of ${runs} runs would take spending past ${budget.dataset.budgetName}: ${budget.dataset.budgetSpent} spent this month, about $${total.toFixed(2)} more with this sweep. You may still submit.`
        : "";
    }
  };
  const update = () => {
    const sections = [...runForm.querySelectorAll("details.vary")];
    const wrong = sections.find((section) => countOf(section).problem);
    if (wrong) {
      warnBudgets(1);
      sweepSize.textContent = `The Vary boxes of ${wrong.dataset.label} ${countOf(wrong).problem}.`;
      sweepSize.hidden = false;
      submitButton.textContent = "Submit sweep";
      return;
    }
    const counts = sections.map((section) => countOf(section).count).filter((n) => n > 0);
    if (counts.length === 0) {
      warnBudgets(1);
      sweepSize.hidden = true;
      submitButton.textContent = "Submit run";
      return;
    }
    const runs = counts.reduce((a, b) => a * b, 1);
    let text = `This sweep makes ${runs} ${runs === 1 ? "run" : "runs"}, one per combination (at most ${max}).`;
    const median = estimate ? Number(estimate.dataset.medianSeconds) : 0;
    if (median > 0) {
      const minutes = (runs * median) / 60;
      text += minutes < 1 ? " Together under a minute of run time" : ` Together about ${Math.round(minutes)} min of run time`;
      const perHour = Number(estimate.dataset.vcpuHour) > 0 ? estimate.querySelector("[data-estimate-median]") : null;
      text += perHour ? `, about ${runs} × ${perHour.textContent} in cost.` : ".";
    }
    if (runs > max) {
      text += ` That is more than ${max}: vary fewer values.`;
    }
    warnBudgets(runs);
    sweepSize.textContent = text;
    sweepSize.hidden = false;
    submitButton.textContent = `Submit sweep (${runs} runs)`;
  };
  runForm.addEventListener("input", update);
  runForm.addEventListener("change", update);
  update();
}
