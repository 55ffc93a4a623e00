// The agent desktop: pick a customer and a contact, then work through the panels.
import { loadConfig, resourceUrl } from "./lib/config.js";
import { demoUsers, signIn, whoami } from "./lib/api.js";
import { esc } from "./lib/dom.js";
import { LANGUAGES, language, setLanguage, t } from "./lib/i18n.js";
import "./panels/context.js";
import "./panels/reply.js";
import "./panels/nba.js";
import "./panels/nextsteps.js";

const $ = (sel) => document.querySelector(sel);
const panels = () => document.querySelectorAll("cx-context-panel, cx-reply-panel, cx-nba-panel, cx-next-steps-panel");
let samples = { customers: [], contacts: [] };
let me = null; // {agent_id, role} from the front door; never from the URL
const loaded = {};

async function contactFile(entry) {
  if (!loaded[entry.id]) {
    const resp = await fetch(resourceUrl(`samples/${entry.file}`));
    loaded[entry.id] = await resp.json();
  }
  return loaded[entry.id];
}

function renderShell() {
  $("#title").textContent = t("app.title");
  $("#lang-label").textContent = t("app.language");
  $("#customer-label").textContent = t("app.customer");
  $("#contact-label").textContent = t("app.contact");
  $("#picker-legend").textContent = t("app.pick");
  $("#agent").textContent = !me ? t("app.signed_out")
    : me.agent_id ? t("app.agent", { agent: me.agent_id, role: me.role }) : t("app.signed_in");
  $("#signin-label").textContent = t("app.sign_in_as");
  $("#signin-button").textContent = t("app.sign_in");
  $("#skip").textContent = t("app.skip");
  const lang = $("#lang");
  lang.innerHTML = LANGUAGES.map((l) => `<option value="${l}" ${l === language() ? "selected" : ""}>${esc(t("lang." + l))}</option>`).join("");
  const customer = $("#customer");
  const chosen = customer.value;
  customer.innerHTML = `<option value="">${esc(t("app.choose"))}</option>` +
    samples.customers.map((c) => `<option value="${esc(c.customer_id)}" ${c.customer_id === chosen ? "selected" : ""}>${esc(c.customer_id)} — ${esc(c.label)}</option>`).join("");
  renderContacts();
}

function renderContacts() {
  const customer = $("#customer").value;
  const contact = $("#contact");
  const chosen = contact.value;
  const list = samples.contacts.filter((c) => c.customer_id === customer);
  contact.disabled = !list.length;
  contact.innerHTML = `<option value="">${esc(t("app.choose"))}</option>` +
    list.map((c) => `<option value="${esc(c.id)}" ${c.id === chosen ? "selected" : ""}>${esc(t("channel." + c.channel))}: ${esc(c.title[language()] || c.title.en)}</option>`).join("");
}

async function openContact() {
  const entry = samples.contacts.find((c) => c.id === $("#contact").value);
  const view = $("#transcript");
  if (!entry) {
    view.innerHTML = "";
    for (const p of panels()) p.contact = null;
    return;
  }
  const contact = await contactFile(entry);
  // An email's own text is shown once, as the email; the thread lists the other turns.
  const turns = (contact.transcript || []).filter((turn) => !(contact.message && contact.message.includes(turn.text)));
  view.innerHTML = `<h2>${esc(t("app.transcript"))}</h2><p class="muted">${esc(t("channel." + contact.channel))} · ${esc(contact.customer_id)} · ${esc(contact.ticket_id || "")}</p>` +
    (contact.message ? `<div class="email">${esc(contact.message)}</div>` : "") +
    `<ol class="turns">${turns.map((turn) => `<li class="turn ${esc(turn.speaker)}"><span class="speaker">${esc(t("speaker." + turn.speaker))}</span> ${esc(turn.text)}</li>`).join("")}</ol>`;
  for (const p of panels()) p.contact = contact;
}

/** Ask the front door who is signed in; offer the local demo sign-in when nobody is. */
async function refreshIdentity() {
  me = await whoami();
  const form = $("#signin");
  if (me) {
    form.hidden = true;
  } else {
    const users = await demoUsers();
    const select = $("#signin-user");
    const chosen = select.value; // a refresh (e.g. after a 401) keeps the agent's pick
    select.innerHTML = users.map((u) => `<option value="${esc(u.id)}" ${u.id === chosen ? "selected" : ""}>${esc(u.label)} (${esc(u.id)})</option>`).join("");
    form.hidden = !users.length;
  }
  document.body.dataset.signedIn = me ? "true" : "false";
  renderShell();
}

async function main() {
  const cfg = await loadConfig();
  await setLanguage(cfg.language);
  try {
    samples = await (await fetch(resourceUrl(cfg.samplesUrl))).json();
  } catch {
    samples = { customers: [], contacts: [] };
  }
  await refreshIdentity();
  document.addEventListener("cx-language", renderShell);
  document.addEventListener("cx-signed-out", refreshIdentity);
  $("#signin").addEventListener("submit", async () => {
    if (await signIn($("#signin-user").value)) await refreshIdentity();
  });
  $("#lang").addEventListener("change", (ev) => setLanguage(ev.target.value));
  $("#customer").addEventListener("change", () => {
    renderContacts();
    openContact();
  });
  $("#contact").addEventListener("change", openContact);
  document.addEventListener("cx-contact-closed", (ev) => {
    $("#status").textContent = t("app.closed", { ticket: ev.detail.ticket_id || ev.detail.customer_id });
  });
  document.body.dataset.ready = "true";
}

main();
