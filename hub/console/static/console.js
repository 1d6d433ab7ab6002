// The console's only script, hand-written and optional: every page works without it.
// A button with data-confirm asks before its form is sent (revoking a key, requeueing).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
