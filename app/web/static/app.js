// The docjobs page: plain JavaScript over the JSON API under /api/v1.
// Server text is only ever inserted with textContent (never innerHTML).
"use strict";

(() => {
  const API = "/api/v1";
  const LIVE = new Set(["pending", "queued", "processing"]);
  const FINAL = new Set(["completed", "failed", "cancelled"]);
  const SENTENCES_PER_REQUEST = 200;
  const SEARCH_RESULTS = 10;
  const POLL_DEFAULT_MS = 1000;
  const POLL_MIN_MS = 250;
  const POLL_MAX_MS = 15000;
  const STREAM_FAILURES_BEFORE_POLLING = 2;

  const STATUS_WORDS = {
    pending: "Waiting for the queue",
    queued: "Queued",
    processing: "Processing",
    completed: "Completed",
    failed: "Failed",
    cancelled: "Cancelled",
  };

  // Every error code of the README's tables, in words a reader can act on.
  const ERROR_WORDS = {
    encrypted_pdf: "This PDF is protected by a password, so it cannot be read. Save a copy without the password and upload that.",
    corrupt_pdf: "This PDF is damaged or incomplete. Export or download it again and upload the new copy.",
    no_pages: "This PDF has no pages.",
    page_limit_exceeded: "This PDF has more pages than the server accepts. Split it into smaller files.",
    unreadable_pdf: "The text of this PDF could not be read. It may be a scan without a text layer.",
    timeout: "Part of this document took too long to process. Retry; if it happens again, split the file.",
    service_unavailable: "The server's database or queue was unavailable for too long. Retry in a few minutes.",
    worker_lost: "The process working on this document stopped several times, perhaps out of memory. Retry, or split the file.",
    internal_error: "Something went wrong on the server. Try again later.",
    analysis_failed: "Some analyses failed on part of this document; the other results are complete.",
    unsupported_type: "This file is not a PDF. Only PDF documents can be analysed (the file's content counts, not its name).",
    too_large: "This file is larger than the server's upload limit.",
    empty_file: "This file is empty: it has no bytes.",
    rate_limited: "Too many attempts in a short time. Wait a minute and try again.",
    idempotency_key_reused: "This upload was mixed up with another file. Try again.",
    email_taken: "An account with this email already exists. Sign in instead.",
    invalid_credentials: "The email or the password is wrong.",
    token_expired: "Your session has expired. Sign in again.",
    invalid_token: "Your session is no longer valid. Sign in again.",
    token_revoked: "You were signed out. Sign in again.",
    unauthorized: "Sign in first.",
    job_not_found: "This document no longer exists.",
    job_not_cancellable: "This document has already finished, so there is nothing to cancel.",
    job_not_retryable: "Only failed documents can be retried. Upload the file again to run it anew.",
    job_not_completed: "The results are not ready yet.",
    no_embeddings: "This document has no sentence embeddings, so it cannot be searched by meaning.",
    network: "The server could not be reached. Check your connection and try again.",
  };

  const $ = (id) => document.getElementById(id);

  /** Build an element; children are nodes or strings (strings become text, never markup). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function say(target, text, kind = "") {
    target.textContent = text;
    target.className = kind ? `message ${kind}` : "message";
  }

  class ApiFailure extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** The error in words: our sentence for its code, else the server's own message. */
  function explain(error) {
    if (!error) return "";
    return ERROR_WORDS[error.code] || error.message || "Something went wrong.";
  }

  // ---------- session ----------

  const session = {
    get access() { return sessionStorage.getItem("docjobs.access"); },
    get refresh() { return sessionStorage.getItem("docjobs.refresh"); },
    get email() { return sessionStorage.getItem("docjobs.email"); },
    save(tokens, email) {
      sessionStorage.setItem("docjobs.access", tokens.access_token);
      if (tokens.refresh_token) sessionStorage.setItem("docjobs.refresh", tokens.refresh_token);
      if (email) sessionStorage.setItem("docjobs.email", email);
    },
    clear() {
      for (const key of ["access", "refresh", "email"]) sessionStorage.removeItem(`docjobs.${key}`);
    },
  };

  let refreshing = null;

  /** Swap the refresh token for a new access token; concurrent callers share one request. */
  function refreshAccess() {
    if (!session.refresh) return Promise.resolve(false);
    refreshing = refreshing || request("/auth/refresh", { method: "POST", bearer: session.refresh })
      .then(({ data }) => { session.save(data); return true; })
      .catch(() => false)
      .finally(() => { refreshing = null; });
    return refreshing;
  }

  async function request(path, { method = "GET", json, body, bearer } = {}) {
    const headers = { Accept: "application/json" };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    let response;
    try {
      response = await fetch(API + path, { method, headers, body });
    } catch {
      throw new ApiFailure(0, "network", ERROR_WORDS.network);
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiFailure(response.status, error.code || `http_${response.status}`, error.message || response.statusText);
    }
    return { response, data };
  }

  /** Call the API as the signed-in user, refreshing the access token once when it expired. */
  async function api(path, options = {}) {
    try {
      return await request(path, { ...options, bearer: session.access });
    } catch (error) {
      if (error.status !== 401) throw error;
      if (await refreshAccess()) {
        try {
          return await request(path, { ...options, bearer: session.access });
        } catch (again) {
          if (again.status !== 401) throw again;
        }
      }
      signOut(ERROR_WORDS.token_expired);
      throw error;
    }
  }

  // ---------- sign in / out ----------

  async function onAuthSubmit(event) {
    event.preventDefault();
    const action = event.submitter ? event.submitter.value : "login";
    const email = $("email").value.trim();
    const password = $("password").value;
    const message = $("auth-message");
    try {
      if (action === "register") {
        say(message, "Creating your account…");
        await request("/auth/register", { method: "POST", json: { email, password } });
      }
      say(message, "Signing in…");
      const { data } = await request("/auth/login", { method: "POST", json: { email, password } });
      session.save(data, email);
      $("password").value = "";
      say(message, "");
      showWorkspace();
    } catch (error) {
      say(message, explain(error), "error");
    }
  }

  function showWorkspace() {
    $("auth-panel").hidden = true;
    $("workspace").hidden = false;
    $("account").hidden = false;
    $("account-email").textContent = session.email || "";
    loadJobs();
  }

  function signOut(reason = "") {
    stopAllTracking();
    session.clear();
    jobs.clear();
    jobItems.clear();
    selectedId = null;
    $("job-list").replaceChildren();
    $("job-detail").hidden = true;
    $("workspace").hidden = true;
    $("account").hidden = true;
    $("auth-panel").hidden = false;
    say($("auth-message"), reason, reason ? "error" : "");
  }

  // ---------- upload ----------

  async function uploadFile(file) {
    const message = $("upload-message");
    if (!file) return;
    say(message, `Uploading ${file.name}…`);
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const { data } = await api("/jobs", { method: "POST", body: form });
      say(message, data.deduplicated
        ? `${file.name} was uploaded before; showing that document.`
        : `${file.name} uploaded; processing has started.`, "success");
      jobChanged(data, { prepend: true });
      selectJob(data.job_id);
    } catch (error) {
      say(message, `${file.name}: ${explain(error)}`, "error");
    } finally {
      $("file-input").value = "";
    }
  }

  function wireDropZone() {
    const zone = $("drop-zone");
    $("file-input").addEventListener("change", (event) => uploadFile(event.target.files[0]));
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("dragging"); });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) uploadFile(file);
    });
  }

  // ---------- job list ----------

  const jobs = new Map(); // job id -> latest summary
  const jobItems = new Map(); // job id -> its list item's parts
  let selectedId = null;

  function percentOf(job) {
    return Math.max(0, Math.min(100, Math.round(job.progress_percent || 0)));
  }

  function statusLine(job) {
    const words = STATUS_WORDS[job.status] || job.status;
    return LIVE.has(job.status) && job.current_step ? `${words}: ${job.current_step}` : words;
  }

  async function loadJobs() {
    const message = $("jobs-message");
    try {
      const { data } = await api("/jobs?per_page=50");
      for (const job of data.jobs.slice().reverse()) jobChanged(job, { prepend: true });
      say(message, data.jobs.length ? "" : "No documents yet. Upload a PDF to start.");
    } catch (error) {
      if (error.status !== 401) say(message, explain(error), "error");
    }
  }

  function listItem(job) {
    const open = el("button", { type: "button", className: "job-open" });
    open.addEventListener("click", () => selectJob(job.job_id));
    const status = el("span", { className: "job-status" });
    const progress = el("progress", { max: "100", value: "0" });
    const percent = el("span", { className: "job-percent" });
    const li = el("li", { className: "job", "data-job-id": job.job_id },
      open, status, el("div", { className: "progress-row" }, progress, percent));
    return { li, open, status, progress, percent };
  }

  function renderListItem(job, { prepend = false } = {}) {
    let item = jobItems.get(job.job_id);
    if (!item) {
      item = listItem(job);
      jobItems.set(job.job_id, item);
      if (prepend) $("job-list").prepend(item.li);
      else $("job-list").append(item.li);
      say($("jobs-message"), "");
    }
    const name = job.filename || "Untitled document";
    item.open.textContent = name;
    item.status.textContent = statusLine(job);
    item.li.dataset.status = job.status;
    item.progress.value = percentOf(job);
    item.progress.setAttribute("aria-label", `Progress of ${name}`);
    item.percent.textContent = `${percentOf(job)} %`;
    if (job.job_id === selectedId) item.li.setAttribute("aria-current", "true");
    else item.li.removeAttribute("aria-current");
  }

  function forgetJob(id) {
    stopTracking(id);
    jobs.delete(id);
    const item = jobItems.get(id);
    if (item) item.li.remove();
    jobItems.delete(id);
    if (selectedId === id) {
      selectedId = null;
      $("job-detail").hidden = true;
    }
    if (!jobs.size) say($("jobs-message"), "No documents yet. Upload a PDF to start.");
  }

  /** Record a job's new state wherever it shows; follow it while it runs, reload its detail when it ends. */
  function jobChanged(job, options = {}) {
    const before = jobs.get(job.job_id);
    const merged = { ...(before || {}), ...job };
    jobs.set(job.job_id, merged);
    renderListItem(merged, options);
    if (LIVE.has(merged.status)) track(merged.job_id);
    else stopTracking(merged.job_id);
    const ended = before && LIVE.has(before.status) && FINAL.has(merged.status);
    if (ended) $("announcer").textContent = `${merged.filename || "A document"}: ${STATUS_WORDS[merged.status]}.`;
    if (merged.job_id === selectedId) {
      if (ended) loadDetail(merged.job_id);
      else renderProgress(merged);
    }
  }

  // ---------- live progress: server-sent events, else polling ----------

  const trackers = new Map(); // job id -> {stopped, source, timer, streamFailures}

  function track(id) {
    if (trackers.has(id)) return;
    const tracker = { stopped: false, source: null, timer: null, streamFailures: 0 };
    trackers.set(id, tracker);
    follow(id, tracker);
  }

  function stopTracking(id) {
    const tracker = trackers.get(id);
    if (!tracker) return;
    tracker.stopped = true;
    if (tracker.source) tracker.source.close();
    clearTimeout(tracker.timer);
    trackers.delete(id);
  }

  function stopAllTracking() {
    for (const id of [...trackers.keys()]) stopTracking(id);
  }

  /** Stream the job's events with a short-lived ticket; poll instead when streaming is not possible. */
  async function follow(id, tracker) {
    if (!window.EventSource || tracker.streamFailures >= STREAM_FAILURES_BEFORE_POLLING) {
      poll(id, tracker, false);
      return;
    }
    let ticket;
    try {
      ({ data: ticket } = await api(`/jobs/${encodeURIComponent(id)}/events/ticket`, { method: "POST" }));
    } catch (error) {
      if (error.code === "job_not_found") { forgetJob(id); return; }
      tracker.streamFailures = STREAM_FAILURES_BEFORE_POLLING; // no streams here: poll from now on
      poll(id, tracker, false);
      return;
    }
    if (tracker.stopped || !ticket || !ticket.url) {
      if (!tracker.stopped) poll(id, tracker, false);
      return;
    }
    const source = new EventSource(ticket.url);
    tracker.source = source;
    let heard = false;
    const onEvent = (event) => {
      heard = true;
      let job;
      try { job = JSON.parse(event.data); } catch { return; }
      if (!job.job_id) job.job_id = id;
      jobChanged(job);
    };
    source.addEventListener("progress", onEvent);
    source.addEventListener("end", (event) => {
      source.close();
      onEvent(event);
      stopTracking(id);
    });
    // The stream's lifetime is bounded: at its end, follow on with a new ticket.
    source.addEventListener("reconnect", () => {
      source.close();
      if (!tracker.stopped) follow(id, tracker);
    });
    // Both a lost connection and the server's own "error" event (the job was deleted) land here.
    source.onerror = (event) => {
      source.close();
      if (tracker.stopped) return;
      tracker.source = null;
      if (event.data && event.data.includes("job_not_found")) {
        forgetJob(id);
        return;
      }
      if (!heard) tracker.streamFailures += 1;
      // A stream that worked and broke resumes after one poll; one that never worked is replaced by polling.
      poll(id, tracker, heard);
    };
  }

  function pollDelay(response, data) {
    const header = response.headers.get("Retry-After");
    let delay = POLL_DEFAULT_MS;
    if (header && !Number.isNaN(Number(header))) delay = Number(header) * 1000;
    else if (data && Number.isFinite(data.poll_after_ms)) delay = data.poll_after_ms;
    return Math.max(POLL_MIN_MS, Math.min(POLL_MAX_MS, delay));
  }

  async function poll(id, tracker, resumeStream) {
    if (tracker.stopped) return;
    let response, data;
    try {
      ({ response, data } = await api(`/jobs/${encodeURIComponent(id)}?sentences_limit=1`));
    } catch (error) {
      if (error.code === "job_not_found") { forgetJob(id); return; }
      if (error.status === 401 || tracker.stopped) return;
      tracker.timer = setTimeout(() => poll(id, tracker, resumeStream), POLL_MAX_MS);
      return;
    }
    if (tracker.stopped) return;
    jobChanged(data);
    if (tracker.stopped || !LIVE.has(data.status)) return;
    const next = resumeStream ? () => follow(id, tracker) : () => poll(id, tracker, false);
    tracker.timer = setTimeout(next, pollDelay(response, data));
  }

  // ---------- job detail ----------

  const sentenceView = { jobId: null, page: 1, batch: 1, pageCount: null };

  function selectJob(id) {
    selectedId = id;
    for (const [jobId, item] of jobItems) {
      if (jobId === id) item.li.setAttribute("aria-current", "true");
      else item.li.removeAttribute("aria-current");
    }
    for (const section of ["summary-section", "keywords-section", "search-section", "sentences-section"]) {
      $(section).hidden = true;
    }
    say($("action-message"), "");
    say($("search-message"), "");
    $("search-results").replaceChildren();
    sentenceView.jobId = null;
    $("job-detail").hidden = false;
    const job = jobs.get(id);
    if (job) renderProgress(job);
    loadDetail(id);
  }

  async function loadDetail(id) {
    try {
      const { data } = await api(`/jobs/${encodeURIComponent(id)}?sentences_limit=1`);
      if (id !== selectedId) return;
      jobs.set(id, { ...(jobs.get(id) || {}), ...data });
      renderListItem(jobs.get(id));
      if (LIVE.has(data.status)) track(id);
      renderDetail(data);
    } catch (error) {
      if (error.code === "job_not_found") forgetJob(id);
      else if (error.status !== 401) say($("action-message"), explain(error), "error");
    }
  }

  function renderProgress(job) {
    $("detail-title").textContent = job.filename || "Untitled document";
    $("detail-status").textContent = STATUS_WORDS[job.status] || job.status;
    $("detail-step").textContent = job.current_step || "—";
    $("detail-pages").textContent = job.page_count ?? (LIVE.has(job.status) ? "not counted yet" : "—");
    $("detail-sentence-count").textContent = job.sentence_count ?? "—";
    $("detail-progress").value = percentOf(job);
    $("detail-progress-label").textContent = `${percentOf(job)} % done`;
    const errorBox = $("detail-error");
    errorBox.hidden = !job.error;
    errorBox.replaceChildren();
    if (job.error) {
      errorBox.append(
        el("p", { text: explain(job.error) }),
        el("p", { className: "hint", text: `Details: ${job.error.message || ""} (${job.error.code})` }),
      );
    }
    $("cancel-job").hidden = !LIVE.has(job.status);
    $("retry-job").hidden = job.status !== "failed";
  }

  function renderDetail(job) {
    renderProgress(job);
    renderSummary(job.summary);
    renderKeywords(job.keywords);
    $("search-section").hidden = job.status !== "completed";
    const readable = job.status === "completed" || (job.status === "cancelled" && job.sentence_count > 0);
    $("sentences-section").hidden = !readable;
    if (readable && sentenceView.jobId !== job.job_id) {
      sentenceView.jobId = job.job_id;
      sentenceView.pageCount = job.page_count || null;
      showSentencePage(1);
    }
  }

  /** The summary as the API gives it: text, a list of sentences, or an object holding one. */
  function renderSummary(summary) {
    const target = $("summary");
    target.replaceChildren();
    let sentences = summary;
    if (summary && !Array.isArray(summary) && typeof summary === "object") sentences = summary.sentences;
    if (typeof summary === "string") sentences = [summary];
    if (!Array.isArray(sentences) || !sentences.length) {
      $("summary-section").hidden = true;
      return;
    }
    const list = el("ol", { className: "summary" });
    for (const item of sentences) {
      const text = typeof item === "string" ? item : item.text;
      list.append(el("li", {}, text || "", item.page ? el("span", { className: "page-ref", text: ` (page ${item.page})` }) : null));
    }
    target.append(list);
    $("summary-section").hidden = false;
  }

  function renderKeywords(keywords) {
    const list = $("keywords");
    list.replaceChildren();
    for (const keyword of keywords || []) {
      list.append(el("li", { text: typeof keyword === "string" ? keyword : keyword.phrase }));
    }
    $("keywords-section").hidden = !list.children.length;
  }

  async function jobAction(path, method, done) {
    const id = selectedId;
    if (!id) return;
    try {
      const { data } = await api(`/jobs/${encodeURIComponent(id)}${path}`, { method });
      done(id, data);
    } catch (error) {
      say($("action-message"), explain(error), "error");
      if (error.code === "job_not_found") forgetJob(id);
    }
  }

  function wireActions() {
    $("cancel-job").addEventListener("click", () => jobAction("/cancel", "POST", (_id, job) => {
      say($("action-message"), "Processing cancelled. What was already read stays available.", "success");
      jobChanged(job); // a job that ended reloads its detail there
    }));
    $("retry-job").addEventListener("click", () => jobAction("/retry", "POST", (id, job) => {
      say($("action-message"), "Retrying the unfinished parts of this document.", "success");
      jobChanged(job);
      loadDetail(id);
    }));
    $("delete-job").addEventListener("click", () => {
      const job = jobs.get(selectedId);
      if (!window.confirm(`Delete ${job ? job.filename : "this document"} and all its results?`)) return;
      jobAction("", "DELETE", (id) => {
        say($("upload-message"), `${job ? job.filename : "The document"} was deleted.`, "success");
        forgetJob(id);
      });
    });
  }

  // ---------- sentences by page ----------

  function sentenceTags(sentence) {
    const tags = el("p", { className: "tags" });
    if (sentence.sentiment) {
      tags.append(el("span", { className: `tag tag-${sentence.sentiment}`, text: `Sentiment: ${sentence.sentiment}` }));
    }
    if (sentence.has_pii) {
      const found = ((sentence.analysis && sentence.analysis.pii) || []).map((item) => item.type).filter(Boolean);
      const kinds = [...new Set(found)].join(", ");
      tags.append(el("span", { className: "tag tag-pii", text: kinds ? `Personal data: ${kinds}` : "Personal data" }));
    }
    if (sentence.language) tags.append(el("span", { className: "tag", text: `Language: ${sentence.language}` }));
    return tags;
  }

  async function showSentencePage(page, batch = 1) {
    const id = sentenceView.jobId;
    const count = sentenceView.pageCount;
    if (count) page = Math.max(1, Math.min(count, page));
    sentenceView.page = page;
    sentenceView.batch = batch;
    $("page-number").value = page;
    if (count) $("page-number").max = count;
    $("page-count").textContent = count ? `of ${count}` : "";
    $("prev-page").disabled = page <= 1;
    $("next-page").disabled = Boolean(count) && page >= count;
    const list = $("sentences");
    const message = $("sentences-message");
    if (batch === 1) list.replaceChildren();
    say(message, `Loading page ${page}…`);
    const query = `min_page=${page}&max_page=${page}&page=${batch}&per_page=${SENTENCES_PER_REQUEST}`;
    try {
      const { data } = await api(`/jobs/${encodeURIComponent(id)}/sentences?${query}`);
      if (id !== sentenceView.jobId || page !== sentenceView.page) return;
      for (const sentence of data.sentences) {
        list.append(el("li", { className: "sentence" }, el("p", { text: sentence.text }), sentenceTags(sentence)));
      }
      $("more-sentences").hidden = !(data.links && data.links.next);
      say(message, data.total
        ? `Page ${page}: ${data.total} sentence${data.total === 1 ? "" : "s"}.`
        : `Page ${page} has no text.`);
    } catch (error) {
      if (error.status !== 401) say(message, explain(error), "error");
    }
  }

  function wireSentences() {
    $("prev-page").addEventListener("click", () => showSentencePage(sentenceView.page - 1));
    $("next-page").addEventListener("click", () => showSentencePage(sentenceView.page + 1));
    $("more-sentences").addEventListener("click", () => showSentencePage(sentenceView.page, sentenceView.batch + 1));
    $("page-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const page = Number.parseInt($("page-number").value, 10);
      if (Number.isFinite(page)) showSentencePage(page);
    });
  }

  // ---------- semantic search ----------

  async function onSearch(event) {
    event.preventDefault();
    const id = selectedId;
    const q = $("search-query").value.trim();
    const results = $("search-results");
    const message = $("search-message");
    results.replaceChildren();
    if (!q || !id) return;
    say(message, "Searching…");
    try {
      const { data } = await api(`/jobs/${encodeURIComponent(id)}/search?q=${encodeURIComponent(q)}&k=${SEARCH_RESULTS}`);
      const hits = data.results || data.hits || [];
      for (const hit of hits) {
        const score = typeof hit.score === "number" ? hit.score.toFixed(3) : "";
        results.append(el("li", { className: "result" },
          el("p", { text: hit.text }),
          el("p", { className: "hint", text: `Page ${hit.page ?? "?"} · similarity ${score}` })));
      }
      say(message, hits.length ? `${hits.length} closest sentence${hits.length === 1 ? "" : "s"}.` : "Nothing found.");
    } catch (error) {
      if (error.status === 404 && error.code !== "job_not_found") say(message, "This server does not offer search yet.", "error");
      else if (error.status !== 401) say(message, explain(error), "error");
    }
  }

  // ---------- start ----------

  function start() {
    $("auth-form").addEventListener("submit", onAuthSubmit);
    $("sign-out").addEventListener("click", () => {
      // Revoke the sign-in on the server too; the page forgets it whatever the answer.
      if (session.refresh) request("/auth/logout", { method: "POST", bearer: session.refresh }).catch(() => {});
      signOut();
    });
    $("refresh-jobs").addEventListener("click", loadJobs);
    $("search-form").addEventListener("submit", onSearch);
    wireDropZone();
    wireActions();
    wireSentences();
    if (session.access) showWorkspace();
  }

  start();
})();
