// Base of every panel: a custom element in the light DOM (the host page's CSS applies),
// re-rendered from its state; the contact comes from the shell or from attributes.
import { callFunction } from "./api.js";
import { language } from "./i18n.js";

/** Channel names differ per function (see functions/openapi.json). */
export const CHANNELS = {
  context_summary: { chat: "chat", email: "email", phone: "phone" },
  next_best_action: { chat: "chat", email: "email", phone: "phone" },
  reply_draft: { chat: "chat", email: "email", phone: "phone_notes" },
  next_steps: { chat: "chat", email: "email", phone: "phone" },
  closing_message: { chat: "chat", email: "email", phone: "email" }, // after a call the summary goes by email
};

export function customerMessage(contact) {
  if (contact.message) return contact.message;
  const said = (contact.transcript || []).filter((turn) => turn.speaker === "customer").map((turn) => turn.text);
  if (contact.channel === "chat") return said[said.length - 1] || "";
  return said.join("\n");
}

export function transcript(contact) {
  if (contact.transcript && contact.transcript.length) return contact.transcript.map(({ speaker, text }) => ({ speaker, text }));
  return [{ speaker: "customer", text: contact.message || "" }];
}

export class Panel extends HTMLElement {
  constructor() {
    super();
    this.state = {};
    this._contact = null;
    this._onLanguage = () => this.render();
  }

  connectedCallback() {
    document.addEventListener("cx-language", this._onLanguage);
    this.classList.add("cx-panel");
    const src = this.getAttribute("contact-src");
    if (src && !this._contact) {
      fetch(new URL(src, location.href))
        .then((r) => r.json())
        .then((c) => { this.contact = c; });
    }
    this.render();
  }

  disconnectedCallback() {
    document.removeEventListener("cx-language", this._onLanguage);
  }

  /** The contact being handled: {customer_id, ticket_id, channel, transcript, message, ...}. */
  get contact() {
    if (this._contact) return this._contact;
    const customer = this.getAttribute("customer-id");
    if (!customer) return null;
    return {
      customer_id: customer,
      ticket_id: this.getAttribute("ticket-id") || null,
      channel: this.getAttribute("channel") || "chat",
      message: this.getAttribute("message") || "",
      transcript: [],
    };
  }

  set contact(value) {
    this._contact = value;
    this.state = {};
    this.render();
  }

  get agentLanguage() {
    return language();
  }

  /** Call a function, keep the result or the error in state, time click → rendered result. */
  async run(fn, body, { started = performance.now(), key = "data" } = {}) {
    const contact = this._contact;
    this.state = { ...this.state, busy: fn, error: null };
    this.render();
    let data = null;
    let error = null;
    let requestId = null;
    try {
      ({ data, requestId } = await callFunction(fn, body));
    } catch (err) {
      error = err;
    }
    if (contact !== this._contact) return null; // the agent moved to another contact meanwhile
    this.state = error ? { ...this.state, busy: null, error } : { ...this.state, busy: null, [key]: data, requestId };
    this.render();
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    const ms = performance.now() - started;
    this.dataset.lastMs = ms.toFixed(1);
    this.dispatchEvent(new CustomEvent("cx-rendered", { bubbles: true, detail: { panel: this.localName, fn, ms, ok: !this.state.error } }));
    return this.state.error ? null : this.state[key];
  }

  /**
   * Replace the panel's controls and its result, keeping keyboard focus on the same control.
   * The result region stays in the DOM (aria-live regions announce only changes to themselves).
   */
  paint(head, result, busy = false) {
    const active = document.activeElement;
    const key = active && this.contains(active) ? focusKey(active) : null;
    if (!this._head) {
      this.innerHTML = '<div class="panel-head"></div><div class="result" aria-live="polite"></div>';
      this._head = this.querySelector(".panel-head");
      this._result = this.querySelector(".result");
    }
    this._head.innerHTML = head;
    this._result.innerHTML = result;
    this._result.setAttribute("aria-busy", busy ? "true" : "false");
    if (key) {
      const again = this.querySelector(key);
      if (again) again.focus();
    }
  }

  render() {}
}

function focusKey(el) {
  if (el.id) return `#${CSS.escape(el.id)}`;
  const attrs = ["data-action", "data-index", "data-field", "data-rating", "data-outcome", "name"]
    .filter((a) => el.hasAttribute(a))
    .map((a) => `[${a}="${CSS.escape(el.getAttribute(a))}"]`);
  return attrs.length ? el.localName + attrs.join("") : null;
}
