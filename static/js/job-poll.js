// Follows pending build jobs without a full page refresh loop: polls, then reloads once a job has finished.
(function () {
  var pending = document.querySelectorAll("[data-job-status-url]");
  if (!pending.length || !window.fetch) { return; }
  function poll() {
    var checks = Array.prototype.map.call(pending, function (element) {
      return fetch(element.getAttribute("data-job-status-url"), {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (job) {
          if (job.label && element.textContent !== job.label) { element.textContent = job.label; }
          return job.status === "ready" || job.status === "succeeded" || job.status === "failed";
        })
        .catch(function () { return false; });
    });
    Promise.all(checks).then(function (finished) {
      if (finished.indexOf(true) !== -1) { window.location.reload(); }
      else { window.setTimeout(poll, 3000); }
    });
  }
  window.setTimeout(poll, 2000);
})();
