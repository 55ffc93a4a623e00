// <cx-reply-panel>: the reply draft to review, edit and send (reply_draft), every review flag
// marked on its sentence; sending records the final text as feedback (rating derived).
import { callFunction, eventId } from "../lib/api.js";
import { engineHtml, errorHtml, esc, highlight, uid } from "../lib/dom.js";
import { label, t } from "../lib/i18n.js";
import { CHANNELS, Panel, customerMessage } from "../lib/panel.js";

export class ReplyPanel extends Panel {
  constructor() {
    super();
    this.ids = { heading: uid("reply-h"), final: uid("reply-final"), flag: uid("flag") };
    this.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-action]");
      if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") return;
      const action = button.dataset.action;
      if (action === "draft") this.draft(performance.now());
      if (action === "reset") {
        this.state = { ...this.state, finalText: this.state.data.reply };
        this.render();
      }
      if (action === "send") this.send();
    });
    this.addEventListener("input", (ev) => {
      if (ev.target.dataset.field === "final") this.state.finalText = ev.target.value;
    });
  }

  draft(started = performance.now()) {
    const c = this.contact;
    if (!c) return null;
    const body = { customer_id: c.customer_id, message: customerMessage(c), channel: CHANNELS.reply_draft[c.channel] };
    if (c.ticket_id) body.ticket_id = c.ticket_id;
    if (c.channel === "chat" && c.transcript) {
      const turns = c.transcript.map(({ speaker, text }) => ({ speaker, text }));
      body.conversation = turns.slice(0, Math.max(0, turns.length - 1)).slice(-20);
    }
    return this.run("reply_draft", body, { started }).then((data) => {
      if (data) {
        this.state = { ...this.state, finalText: data.reply, sent: null };
        this.render();
      }
      return data;
    });
  }

  async send() {
    const data = this.state.data;
    if (!data) return;
    const finalText = this.state.finalText ?? data.reply;
    try {
      const { data: fb } = await callFunction("feedback", {
        event_id: eventId("reply"), suggestion_id: data.suggestion_id, capability: "reply_draft", final_text: finalText,
      });
      this.state = { ...this.state, sent: fb, sendError: null };
      this.dispatchEvent(new CustomEvent("cx-reply-sent", { bubbles: true, detail: { text: finalText, feedback: fb } }));
    } catch (err) {
      this.state = { ...this.state, sendError: err };
    }
    this.render();
  }

  flags() {
    const reasons = (this.state.data && this.state.data.review_reasons) || [];
    return reasons.map((r, index) => ({ ...r, index, label: label("flag", r.code) }));
  }

  render() {
    const { busy, error, data, sent, sendError } = this.state;
    const c = this.contact;
    const flags = this.flags();
    const message = c ? customerMessage(c) : "";
    const inMessage = highlight(message, flags.filter((f) => f.source === "message"), `${this.ids.flag}-m`);
    let result = "";
    if (error) result = errorHtml(error);
    else if (data) {
      const inReply = highlight(data.reply, flags.filter((f) => f.source === "reply"), `${this.ids.flag}-r`);
      const target = (f) => (inMessage.placed.has(f.index) && f.source === "message" ? `${this.ids.flag}-m-${f.index}` : inReply.placed.has(f.index) && f.source === "reply" ? `${this.ids.flag}-r-${f.index}` : null);
      const items = flags.map((f) => {
        const id = target(f);
        const where = f.sentence
          ? id
            ? `<a href="#${id}" title="${esc(t("reply.flag_goto"))}">“${esc(f.sentence.length > 90 ? f.sentence.slice(0, 88) + "…" : f.sentence)}”</a>`
            : `<blockquote><mark class="flag" data-flags="${esc(f.code)}" data-flag-index="${f.index}" tabindex="0"><span class="flag-text">${esc(f.sentence)}</span></mark></blockquote><span class="muted">${esc(t("reply.flag_replaced"))}</span>`
          : `<span class="muted">${esc(t("reply.flag_whole"))}</span>`;
        return `<li data-code="${esc(f.code)}" data-source="${esc(f.source)}"><strong>${esc(f.label)}</strong> <span class="badge">${esc(t("source." + f.source))}</span>${f.detail ? ` <span class="muted">(${esc(f.detail)})</span>` : ""} ${where}</li>`;
      }).join("");
      const review = data.requires_human_review
        ? `<div class="review" role="note"><h3>${esc(t("reply.review_needed", { n: flags.length }))}</h3><ol class="flags">${items}</ol></div>`
        : `<p class="ok">${esc(t("reply.no_review"))}</p>`;
      const actions = (data.next_best_actions || []).map((a) => `<li><strong>${esc(a.action)}</strong> — ${esc(a.reason)}${a.requires_agent_confirmation ? ` <span class="badge warn">${esc(t("nba.needs_confirmation"))}</span>` : ""}</li>`).join("");
      const questions = (data.questions_for_agent || []).map((q) => `<li>${esc(q)}</li>`).join("");
      result = `${engineHtml(data)}
        <p class="summary">${esc(data.intent_summary)}</p>
        <p class="facts"><span class="badge">${esc(t("reply.language"))}: ${esc(data.language)}${data.language_detected ? " " + esc(t("reply.detected")) : ""}</span>
          <span class="badge">${esc(t("reply.intent"))}: ${esc(data.intent)}</span>
          <span class="badge sentiment-${esc(data.sentiment.label)}">${esc(t("sentiment." + data.sentiment.label))} (${Number(data.sentiment.score).toFixed(2)})</span></p>
        ${data.draft_replaced ? `<p class="warn" role="note">${esc(t("reply.replaced"))}</p>` : ""}
        ${review}
        <h3>${esc(t("reply.draft"))}</h3>
        <div class="draft" aria-label="${esc(t("reply.draft_flagged"))}">${inReply.html}</div>
        <label for="${this.ids.final}">${esc(t("reply.edit"))}</label>
        <textarea id="${this.ids.final}" data-field="final" rows="8">${esc(this.state.finalText ?? data.reply)}</textarea>
        <div class="row">
          <button type="button" class="primary" data-action="send" ${sent ? "disabled" : ""}>${esc(t("reply.send"))}</button>
          <button type="button" data-action="reset" ${sent ? "disabled" : ""}>${esc(t("reply.reset"))}</button>
        </div>
        ${sent ? `<p class="ok sent" role="status">${esc(t("feedback.recorded"))}: <strong data-rating="${esc(sent.rating)}">${esc(t("rating." + sent.rating))}</strong>${sent.similarity != null ? ` (${esc(t("feedback.similarity"))} ${Number(sent.similarity).toFixed(2)})` : ""}</p>` : ""}
        ${sendError ? errorHtml(sendError) : ""}
        ${questions ? `<h3>${esc(t("reply.questions"))}</h3><ul>${questions}</ul>` : ""}
        ${actions ? `<h3>${esc(t("reply.actions"))}</h3><ul>${actions}</ul>` : ""}`;
    }
    this.setAttribute("role", "region");
    this.setAttribute("aria-labelledby", this.ids.heading);
    this.dataset.state = busy ? "busy" : error ? "error" : data ? "done" : "idle";
    const head = `<h2 id="${this.ids.heading}">${esc(t("reply.title"))}</h2>
      ${c ? `<h3>${esc(t("reply.message"))}</h3><div class="message" aria-label="${esc(t("reply.message"))}">${inMessage.html}</div>` : `<p class="muted">${esc(t("common.pick_contact"))}</p>`}
      <button type="button" class="primary" data-action="draft" ${!c ? "disabled" : ""} aria-disabled="${busy ? "true" : "false"}">${esc(busy ? t("common.loading") : t("reply.load"))}</button>`;
    this.paint(head, result, busy);
  }
}

customElements.define("cx-reply-panel", ReplyPanel);
