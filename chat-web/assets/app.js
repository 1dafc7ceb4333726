// The chat's page: plain DOM, the JSON API, and one EventSource for live
// updates. Text from users is only ever set with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { me: null, open: null, messages: new Map(), older: null, events: null };

async function api(method, path, body) {
  const init = { method, headers: {} };
  // Every request that changes state sends JSON, even an empty object: the
  // server refuses other content types there (a cross-site form cannot
  // send JSON).
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  const res = await fetch("/api" + path, init);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error((data && data.message) || res.statusText);
    err.status = res.status;
    err.code = data && data.error;
    throw err;
  }
  return data;
}

function show(loggedIn) {
  $("welcome").hidden = loggedIn;
  $("chat").hidden = !loggedIn;
  $("logout").hidden = !loggedIn;
  $("me").textContent = loggedIn ? "@" + state.me.handle : "";
}

function when(ms) {
  return new Date(ms).toLocaleString();
}

function others(thread) {
  const names = thread.participants.filter((p) => p.id !== state.me.id).map((p) => "@" + p.handle);
  return names.length ? names.join(", ") : "just you";
}

async function refreshThreads() {
  const page = await api("GET", "/threads?limit=50");
  const list = $("threads");
  list.replaceChildren();
  for (const t of page.items) {
    const li = document.createElement("li");
    li.dataset.thread = t.id;
    li.textContent = others(t);
    const time = document.createElement("time");
    time.textContent = when(t.active_at);
    li.append(time);
    if (t.unread && t.id !== state.open) li.classList.add("unread");
    if (t.id === state.open) li.classList.add("open");
    li.addEventListener("click", () => openThread(t));
    list.append(li);
  }
}

function renderMessages() {
  const ol = $("messages");
  const atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
  const sorted = [...state.messages.values()].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  ol.replaceChildren();
  for (const m of sorted) {
    const li = document.createElement("li");
    li.className = "message" + (m.sender.id === state.me.id ? " mine" : "");
    li.dataset.id = m.id;
    const who = document.createElement("b");
    who.textContent = "@" + m.sender.handle;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = m.text;
    const time = document.createElement("time");
    time.textContent = when(m.at);
    li.append(who, text, time);
    ol.append(li);
  }
  $("older").hidden = !state.older;
  if (atBottom) ol.scrollTop = ol.scrollHeight;
}

// Loads the newest page; when some messages are shown already, pages back
// until it meets one of them, so that no gap opens in what is shown.
async function loadNewest() {
  const id = state.open;
  const fresh = state.messages.size === 0;
  let cursor = null;
  for (let round = 0; round < 20; round++) {
    const page = await api("GET", `/threads/${id}/messages?limit=30` + (cursor ? "&cursor=" + cursor : ""));
    if (state.open !== id) return;
    let known = false;
    for (const m of page.items) {
      if (state.messages.has(m.id)) known = true;
      state.messages.set(m.id, m);
    }
    if (round === 0 && state.older === undefined) state.older = page.next;
    if (fresh || known || !page.next) break;
    cursor = page.next;
  }
  renderMessages();
  await api("POST", `/threads/${id}/read`);
}

async function loadOlder() {
  const id = state.open;
  const page = await api("GET", `/threads/${id}/messages?limit=30&cursor=${state.older}`);
  if (state.open !== id) return;
  for (const m of page.items) state.messages.set(m.id, m);
  state.older = page.next;
  renderMessages();
}

async function openThread(thread) {
  state.open = thread.id;
  state.messages = new Map();
  state.older = undefined;
  $("thread").hidden = false;
  $("thread-title").textContent = others(thread);
  $("post-error").textContent = "";
  await loadNewest();
  await refreshThreads();
}

async function refresh() {
  await refreshThreads();
  if (state.open) await loadNewest();
}

function connect() {
  if (state.events) state.events.close();
  const events = new EventSource("/api/events");
  state.events = events;
  events.addEventListener("ready", () => {
    $("live").className = "on";
    $("live").textContent = "live";
    refresh().catch(report);
  });
  events.addEventListener("activity", () => refresh().catch(report));
  events.onerror = () => {
    $("live").className = "off";
    $("live").textContent = "reconnecting";
  };
}

function report(err) {
  if (err.status === 401) return loggedOut();
  console.error(err);
}

function loggedIn(user) {
  state.me = user;
  show(true);
  connect();
}

function loggedOut() {
  if (state.events) state.events.close();
  state.events = null;
  state.me = null;
  state.open = null;
  $("live").className = "off";
  $("live").textContent = "offline";
  $("thread").hidden = true;
  show(false);
}

async function account(path) {
  $("account-error").textContent = "";
  try {
    const user = await api("POST", path, { handle: $("handle").value.trim(), password: $("password").value });
    $("password").value = "";
    loggedIn(user);
  } catch (err) {
    $("account-error").textContent = err.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("account").addEventListener("submit", (e) => { e.preventDefault(); account("/login"); });
  $("signup").addEventListener("click", () => account("/signup"));
  $("logout").addEventListener("click", async () => {
    await api("POST", "/logout").catch(() => {});
    loggedOut();
  });
  $("new-thread").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("new-error").textContent = "";
    const handles = $("new-with").value.split(/[\s,@]+/).filter(Boolean);
    const text = $("new-text").value.trim();
    try {
      const t = await api("POST", "/threads", text ? { with: handles, text } : { with: handles });
      $("new-with").value = "";
      $("new-text").value = "";
      await openThread(t);
    } catch (err) {
      $("new-error").textContent = err.message;
    }
  });
  $("post").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("post-error").textContent = "";
    const text = $("text").value;
    try {
      const m = await api("POST", `/threads/${state.open}/messages`, { text });
      $("text").value = "";
      state.messages.set(m.id, m);
      renderMessages();
    } catch (err) {
      $("post-error").textContent = err.message;
    }
  });
  $("older").addEventListener("click", () => loadOlder().catch(report));
  api("GET", "/me").then(loggedIn, () => show(false));
});
