// <cx-context-panel>: the context overview of the customer (context_summary).
import { callFunction, eventId } from "../lib/api.js";
import { changeCommitment, commitmentsHtml } from "../lib/commitments.js";
import { engineHtml, errorHtml, esc, uid } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { CHANNELS, Panel } from "../lib/panel.js";

export class ContextPanel extends Panel {
  constructor() {
    super();
    this.headingId = uid("ctx-h");
    this.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-action]");
      if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") return;
      if (button.dataset.action === "load") this.load(performance.now());
      if (button.dataset.action === "rate") this.rate(button.dataset.rating);
      if (button.dataset.action.startsWith("commitment-")) this.commitment(button.dataset.id, button.dataset.action.slice(11), button.closest("li"));
    });
  }

  load(started = performance.now()) {
    const c = this.contact;
    if (!c) return null;
    const body = { customer_id: c.customer_id, language: this.agentLanguage, channel: CHANNELS.context_summary[c.channel] };
    if (c.ticket_id) body.ticket_id = c.ticket_id;
    return this.run("context_summary", body, { started });
  }

  async rate(rating) {
    const data = this.state.data;
    if (!data) return;
    try {
      await callFunction("feedback", { event_id: eventId("ctx"), suggestion_id: data.suggestion_id, capability: "context_summary", rating });
      this.state = { ...this.state, rated: rating, rateError: null };
    } catch (err) {
      this.state = { ...this.state, rateError: err };
    }
    this.render();
  }

  async commitment(id, change, row) {
    const data = this.state.data;
    try {
      const commitments = await changeCommitment(data.commitments, id, change, row);
      this.state = { ...this.state, data: { ...data, commitments }, commitmentError: null };
    } catch (err) {
      this.state = { ...this.state, commitmentError: err };
    }
    this.render();
  }

  render() {
    const { busy, error, data, rated, rateError, commitmentError } = this.state;
    const c = this.contact;
    const list = (items, cls) => (items && items.length ? `<ul class="${cls}">${items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>` : `<p class="muted">${esc(t("common.none"))}</p>`);
    let result = "";
    if (error) result = errorHtml(error);
    else if (data) {
      result = `${engineHtml(data)}${commitmentsHtml(data.commitments, commitmentError)}
        <h3>${esc(t("context.bullets"))}</h3>${list(data.bullets, "bullets")}
        <h3>${esc(t("context.recurring"))}</h3>${list(data.recurring_issues, "recurring")}
        <h3>${esc(t("context.preferences"))}</h3>${list(data.preferences, "preferences")}
        <h3>${esc(t("context.trend"))}</h3>
        <p class="trend"><span class="badge sentiment-${esc(data.sentiment_trend)}">${esc(t("sentiment." + data.sentiment_trend))}</span> ${esc(data.sentiment_reason)}</p>
        <h3>${esc(t("context.hints"))}</h3>${list(data.personalization_hints, "hints")}
        <div class="rate" role="group" aria-label="${esc(t("feedback.rate_context"))}">
          <button type="button" data-action="rate" data-rating="used_unchanged" ${rated ? "disabled" : ""}>${esc(t("feedback.helpful"))}</button>
          <button type="button" data-action="rate" data-rating="not_helpful" ${rated ? "disabled" : ""}>${esc(t("feedback.not_helpful"))}</button>
          ${rated ? `<span class="ok" role="status">${esc(t("feedback.recorded"))}: ${esc(t("rating." + rated))}</span>` : ""}
        </div>${rateError ? errorHtml(rateError) : ""}`;
    }
    this.setAttribute("aria-labelledby", this.headingId);
    this.setAttribute("role", "region");
    this.dataset.state = busy ? "busy" : error ? "error" : data ? "done" : "idle";
    this.paint(`<h2 id="${this.headingId}">${esc(t("context.title"))}</h2>
      <p class="muted">${c ? esc(t("common.customer")) + " " + esc(c.customer_id) + (c.ticket_id ? " · " + esc(c.ticket_id) : "") : esc(t("common.pick_contact"))}</p>
      <button type="button" class="primary" data-action="load" ${!c ? "disabled" : ""} aria-disabled="${busy ? "true" : "false"}">${esc(busy ? t("common.loading") : t("context.load"))}</button>`,
      result, busy);
  }
}

customElements.define("cx-context-panel", ContextPanel);
