// Loading indicator, error notice and the screen-reader status line. DOM only.

export function createNotice(doc) {
  const loading = doc.getElementById("loading");
  const loadingText = doc.getElementById("loading-text");
  const notice = doc.getElementById("notice");
  const noticeTitle = doc.getElementById("notice-title");
  const noticeDetail = doc.getElementById("notice-detail");
  const retry = doc.getElementById("notice-retry");
  const status = doc.getElementById("status");
  retry.addEventListener("click", () => doc.defaultView.location.reload());

  return {
    loading(text) {
      if (text) {
        loadingText.textContent = text;
        loading.hidden = false;
      } else {
        loading.hidden = true;
      }
    },
    /** A blocking error: the viewer cannot go on without a reload. */
    error(title, detail, { canRetry = true } = {}) {
      loading.hidden = true;
      noticeTitle.textContent = title;
      noticeDetail.textContent = detail || "";
      retry.hidden = !canRetry;
      notice.hidden = false;
    },
    /** Tell screen-reader users what changed (polite). */
    announce(text) {
      // Clearing first makes the same message be read again.
      status.textContent = "";
      doc.defaultView.setTimeout(() => {
        status.textContent = text;
      }, 50);
    },
  };
}
