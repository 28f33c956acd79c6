// Follow queued and running jobs on the page: update each status tag (and, on a build's page,
// the step it is on) from the job's status.json, then reload once a job has finished so the
// server shows the result. Without JavaScript the page's "Refresh the page" link does the same.
const TAGS = {
  queued: "govuk-tag--grey",
  running: "govuk-tag--blue",
  ready: "govuk-tag--green",
  succeeded: "govuk-tag--green",
  failed: "govuk-tag--red",
};
const FINISHED = ["ready", "succeeded", "failed"];
const INTERVAL = 1500;

function show(element, text, prefix = "") {
  if (!element) { return; }
  const shown = text ? prefix + text : "";
  if (element.textContent !== shown) { element.textContent = shown; }
  element.hidden = !text;
}

function update(element, job) {
  if (job.label && element.textContent !== job.label) { element.textContent = job.label; }
  Object.values(TAGS).forEach((tag) => element.classList.remove(tag));
  if (TAGS[job.status]) { element.classList.add(TAGS[job.status]); }
  if (element.hasAttribute("data-job-main")) {
    const step = job.status === "running" ? job.step || "" : "";
    show(document.querySelector("[data-job-step]"), step, "Current step: ");
    show(document.querySelector("[data-job-message]"), job.message || "");
  }
  return FINISHED.includes(job.status);
}

async function check(element) {
  try {
    const response = await fetch(element.dataset.jobStatusUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    return response.ok ? update(element, await response.json()) : false;
  } catch {
    return false;
  }
}

async function poll(elements) {
  const finished = await Promise.all(elements.map(check));
  if (finished.includes(true)) {
    window.location.reload();
  } else {
    window.setTimeout(() => poll(elements), INTERVAL);
  }
}

const pending = Array.from(document.querySelectorAll("[data-job-status-url]"));
if (pending.length && window.fetch) {
  window.setTimeout(() => poll(pending), INTERVAL);
}
