// runform web app: plain JS, no framework, no CDN. Each block wires itself when its element exists.
"use strict";

function showError(box, err) {
  box.hidden = false;
  box.innerHTML = "";
  const title = document.createElement("strong");
  title.textContent = (err && err.title) || "Something went wrong";
  box.appendChild(title);
  for (const part of [err && err.message, err && err.hint]) {
    if (part) { const p = document.createElement("p"); p.textContent = part; box.appendChild(p); }
  }
}

function errorFromResponse(status, text) {
  try {
    const body = JSON.parse(text);
    if (body.error) return body.error;
    if (body.detail) return { title: "The upload was refused", message: typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail) };
  } catch (e) { /* not JSON */ }
  if (status === 413) return { title: "The file is too large", message: "The clip is larger than the upload limit." };
  return { title: "The upload failed", message: "HTTP " + status };
}

function initUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const maxBytes = Number(form.dataset.maxBytes);
  const drop = document.getElementById("dropzone");
  const chosenLabel = document.getElementById("chosen");
  const errorBox = document.getElementById("upload-error");
  const progress = document.getElementById("upload-progress");
  const submit = document.getElementById("submit");
  let chosen = null;

  function choose(file) {
    chosen = file || null;
    errorBox.hidden = true;
    chosenLabel.hidden = !chosen;
    if (chosen) chosenLabel.textContent = chosen.name + " · " + (chosen.size / 1048576).toFixed(1) + " MB";
    drop.classList.toggle("has-file", !!chosen);
  }
  for (const id of ["file", "capture"]) {
    const input = document.getElementById(id);
    input.addEventListener("change", () => choose(input.files[0]));
  }
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
  });

  const names = document.getElementById("runner-names");
  form.runner.addEventListener("change", () => {
    for (const opt of names.options) {
      if (opt.value === form.runner.value && opt.dataset.height && !form.height_cm.value) form.height_cm.value = opt.dataset.height;
    }
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!chosen) { showError(errorBox, { title: "No clip chosen", message: "Drop a video on the box above or press 'Choose a clip'." }); return; }
    if (maxBytes && chosen.size > maxBytes) {
      showError(errorBox, { title: "The file is too large", message: "This clip is " + (chosen.size / 1048576).toFixed(0) + " MB; the limit is " + (maxBytes / 1048576).toFixed(0) + " MB.", hint: "Trim the clip to 10-30 seconds of running and try again." });
      return;
    }
    const data = new FormData(form);
    data.append("video", chosen, chosen.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/analyses");
    xhr.upload.addEventListener("progress", (ev) => {
      if (!ev.lengthComputable) return;
      const pct = Math.round((100 * ev.loaded) / ev.total);
      progress.querySelector(".bar span").style.width = pct + "%";
      progress.querySelector(".pct").textContent = pct + " %";
    });
    xhr.addEventListener("load", () => {
      submit.disabled = false;
      progress.hidden = true;
      if (xhr.status === 202) {
        window.location.href = JSON.parse(xhr.responseText).links.page;
      } else {
        showError(errorBox, errorFromResponse(xhr.status, xhr.responseText));
      }
    });
    xhr.addEventListener("error", () => {
      submit.disabled = false;
      progress.hidden = true;
      showError(errorBox, { title: "The upload was interrupted", message: "The server closed the connection (is the file larger than the limit, or did the server stop?)." });
    });
    errorBox.hidden = true;
    progress.hidden = false;
    submit.disabled = true;
    xhr.send(data);
  });
}

const STAGE_LABELS = {
  queued: "Waiting in the queue", starting: "Starting", pose: "Finding the runner in each frame",
  clean: "Cleaning the keypoints", events: "Finding foot contacts", metrics: "Measuring",
  assess: "Checking against the evidence", report: "Writing the report and annotated video",
};

function initProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const bar = box.querySelector(".bar span");
  const pct = document.getElementById("pct");
  const label = document.getElementById("stage-label");
  const queue = document.getElementById("queue");
  const items = Array.from(box.querySelectorAll("#stages li"));

  function update(s) {
    if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
    const p = Math.round(1000 * s.progress) / 10;
    bar.style.width = p + "%";
    pct.textContent = Math.round(p) + " %";
    const key = Object.keys(STAGE_LABELS).find((k) => (s.stage || "").startsWith(k));
    label.textContent = key ? STAGE_LABELS[key] : s.stage;
    queue.textContent = s.queue_position ? s.queue_position + " ahead in the queue" : "";
    let reached = false;
    for (const li of items.slice().reverse()) {
      if ((s.stage || "").startsWith(li.dataset.stage)) { li.className = "current"; reached = true; }
      else li.className = reached ? "done" : "";
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl).then((r) => r.json()).then((s) => { update(s); setTimeout(poll, 1000); })
      .catch(() => setTimeout(poll, 3000));
  }

  if (!window.EventSource) { poll(); return; }
  const es = new EventSource(box.dataset.events);
  es.onmessage = (ev) => update(JSON.parse(ev.data));
  es.addEventListener("deleted", () => { es.close(); window.location.href = "/"; });
  es.onerror = () => { es.close(); poll(); };
}

function initButtons() {
  for (const btn of document.querySelectorAll("[data-delete-url]")) {
    btn.addEventListener("click", (e) => {
      e.preventDefault();
      if (!window.confirm(btn.dataset.confirm || "Delete?")) return;
      fetch(btn.dataset.deleteUrl, { method: "DELETE" }).then((r) => {
        if (r.ok) window.location.href = btn.dataset.after || "/";
        else r.text().then((t) => window.alert("Could not delete: " + t));
      });
    });
  }
  for (const btn of document.querySelectorAll("[data-post-url]")) {
    btn.addEventListener("click", (e) => {
      e.preventDefault();
      btn.disabled = true;
      fetch(btn.dataset.postUrl, { method: "POST" }).then((r) => {
        if (r.ok) window.location.reload();
        else r.json().then((b) => { btn.disabled = false; window.alert(b.detail || "Failed"); });
      });
    });
  }
}

function initCompare() {
  const form = document.getElementById("compare-form");
  if (!form) return;
  const picks = Array.from(form.querySelectorAll("input.pick"));
  const button = document.getElementById("compare-button");
  function sync() {
    const on = picks.filter((p) => p.checked);
    button.disabled = on.length !== 2;
    for (const p of picks) p.disabled = !p.checked && on.length >= 2;
    form.a.value = on[0] ? on[0].value : "";
    form.b.value = on[1] ? on[1].value : "";
  }
  for (const p of picks) { p.removeAttribute("name"); p.addEventListener("change", sync); }
  sync();
}

document.addEventListener("DOMContentLoaded", () => { initUpload(); initProgress(); initButtons(); initCompare(); });
