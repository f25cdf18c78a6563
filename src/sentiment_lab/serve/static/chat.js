// The Chat tab: a conversation with the LLM the server is configured with (POST /v1/chat,
// server-sent events), each message shown with its sentiment. Kept apart from app.js: it adds
// its own tab and panel when GET /v1/chat says the chat is on, and registers the tab in app.js's
// TABS so that the tab keys and selectTab() treat it like the others. The conversation lives
// in this page only (the server keeps nothing); the API key never reaches the page.
"use strict";

const CHAT_STRINGS = {
  en: { tab: "Chat", persona: "Persona", send: "Send", stop: "Stop", reset: "New conversation",
        placeholder: "Ask about RNNs, LSTMs, gates, embeddings…", you: "You", assistant: "Assistant",
        interrupted: "interrupted", flagged: "flagged for review", mood: "Your mood (last messages):",
        note: "the assistant was asked to slow down and encourage", llm: "LLM:" },
  fr: { tab: "Discussion", persona: "Persona", send: "Envoyer", stop: "Arrêter", reset: "Nouvelle conversation",
        placeholder: "Pose une question sur les RNN, LSTM, portes, embeddings…", you: "Toi", assistant: "Assistant",
        interrupted: "interrompu", flagged: "signalé pour relecture", mood: "Ton humeur (derniers messages) :",
        note: "l’assistant a été invité à ralentir et à encourager", llm: "LLM :" },
};
const chat = { messages: [], controller: null, info: null };

function ct(key) {
  const lang = (document.documentElement.lang || "en").startsWith("fr") ? "fr" : "en";
  return CHAT_STRINGS[lang][key];
}

function chatPanelHtml() {
  return `
    <div class="row chat-top">
      <label for="chat-persona" data-chat="persona"></label>
      <select id="chat-persona"></select>
      <button type="button" id="chat-reset" data-chat="reset"></button>
      <span id="chat-llm" class="hint"></span>
    </div>
    <div id="chat-log" class="chat-log" aria-live="polite"></div>
    <p id="chat-mood" class="hint" hidden></p>
    <p id="chat-error" class="error" role="alert" hidden></p>
    <form id="chat-form">
      <textarea id="chat-input" rows="2" maxlength="20000"></textarea>
      <div class="row">
        <button type="submit" id="chat-send" class="primary" data-chat="send"></button>
        <button type="button" id="chat-stop" data-chat="stop" disabled></button>
      </div>
    </form>`;
}

function chatLabels() {
  document.querySelectorAll("[data-chat]").forEach((el) => { el.textContent = ct(el.dataset.chat); });
  const input = document.getElementById("chat-input");
  if (input) input.placeholder = ct("placeholder");
  if (chat.info) document.getElementById("chat-llm").textContent = `${ct("llm")} ${chat.info.llm}`;
  renderChat();
}

function sentimentBadge(s) {
  if (!s) return null;
  const span = document.createElement("span");
  span.className = `chat-sentiment ${s.label === "positive" ? "pos" : "neg"}`;
  span.textContent = `${s.label} ${Math.round(s.score * 100)}%`;
  return span;
}

function renderChat() {
  const log = document.getElementById("chat-log");
  if (!log) return;
  log.replaceChildren(...chat.messages.map((m) => {
    const div = document.createElement("div");
    div.className = `chat-msg ${m.role}`;
    const who = document.createElement("strong");
    who.textContent = `${ct(m.role === "user" ? "you" : "assistant")} `;
    const text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = m.text;
    div.append(who, text);
    const badge = sentimentBadge(m.sentiment);
    if (badge) div.append(" ", badge);
    for (const [flag, key] of [[m.interrupted, "interrupted"], [m.flagged, "flagged"], [m.note, "note"]]) {
      if (!flag) continue;
      const em = document.createElement("em");
      em.className = "chat-flag";
      em.textContent = ` (${ct(key)})`;
      div.append(em);
    }
    return div;
  }));
  log.scrollTop = log.scrollHeight;
  const moods = chat.messages.filter((m) => m.role === "user" && m.sentiment).slice(-3);
  const mood = document.getElementById("chat-mood");
  mood.hidden = !moods.length;
  mood.textContent = `${ct("mood")} ${moods.map((m) => (m.sentiment.label === "positive" ? "+" : "−")).join(" ")}`;
}

// Server-sent events from a POST: read the body and split it into `event:`/`data:` blocks.
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = Object.fromEntries(block.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]));
      yield { event: fields.event, data: JSON.parse(fields.data) };
    }
  }
}

async function sendChat(text) {
  const error = document.getElementById("chat-error");
  error.hidden = true;
  const user = { role: "user", text };
  const reply = { role: "assistant", text: "" };
  const history = chat.messages.filter((m) => m.text).map((m) => ({ role: m.role, text: m.text }));
  chat.messages.push(user, reply);
  renderChat();
  chat.controller = new AbortController();
  setChatBusy(true);
  try {
    const response = await fetchOk("/v1/chat", {
      method: "POST", headers: { "Content-Type": "application/json" }, signal: chat.controller.signal,
      body: JSON.stringify({ messages: [...history, { role: "user", text }],
                             persona: document.getElementById("chat-persona").value }),
    });
    for await (const { event, data } of sseEvents(response)) {
      if (event === "user") { user.sentiment = data.sentiment; user.note = data.note; }
      else if (event === "token") reply.text += data.text;
      else if (event === "done") {
        Object.assign(reply, { sentiment: data.sentiment, flagged: data.flagged, interrupted: data.interrupted });
        user.sentiment = user.sentiment || data.user_sentiment;
      } else if (event === "error") throw new Error(data.message);
      renderChat();
    }
  } catch (e) {
    if (e.name === "AbortError") reply.interrupted = true;
    else {
      chat.messages.splice(chat.messages.indexOf(user), reply.text ? 0 : 2);  // no reply: as before the turn
      error.textContent = String(e.message || e);
      error.hidden = false;
    }
  } finally {
    chat.controller = null;
    setChatBusy(false);
    renderChat();
  }
}

function setChatBusy(busy) {
  document.getElementById("chat-send").disabled = busy;
  document.getElementById("chat-stop").disabled = !busy;
}

async function initChat() {
  let info;
  try {
    const response = await fetch("/v1/chat");
    if (!response.ok) return;
    info = await response.json();
    if (!info.enabled) return;  // the chat is off on this server: no tab
  } catch (e) { return; }
  chat.info = info;
  const tab = document.createElement("button");
  Object.assign(tab, { type: "button", id: "tab-chat", tabIndex: -1 });
  tab.setAttribute("role", "tab");
  tab.setAttribute("aria-selected", "false");
  tab.setAttribute("aria-controls", "panel-chat");
  tab.dataset.chat = "tab";
  document.querySelector('[role="tablist"]').appendChild(tab);
  const panel = document.createElement("section");
  Object.assign(panel, { id: "panel-chat", hidden: true });
  panel.setAttribute("role", "tabpanel");
  panel.setAttribute("aria-labelledby", "tab-chat");
  panel.innerHTML = chatPanelHtml();
  document.getElementById("panel-batch").after(panel);
  TABS.push("chat");  // app.js: selectTab and the arrow keys now include this tab
  tab.addEventListener("click", () => selectTab("chat"));
  const select = document.getElementById("chat-persona");
  for (const name of info.personas) select.append(new Option(name, name));
  select.value = info.persona || (document.documentElement.lang.startsWith("fr") ? "tutor-fr" : "tutor-en");
  document.getElementById("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("chat-input");
    if (!input.value.trim() || chat.controller) return;
    sendChat(input.value.trim());
    input.value = "";
  });
  document.getElementById("chat-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); document.getElementById("chat-form").requestSubmit(); }
  });
  document.getElementById("chat-stop").addEventListener("click", () => chat.controller && chat.controller.abort());
  document.getElementById("chat-reset").addEventListener("click", () => { chat.messages = []; renderChat(); });
  new MutationObserver(chatLabels).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  chatLabels();
}

document.addEventListener("DOMContentLoaded", initChat);
