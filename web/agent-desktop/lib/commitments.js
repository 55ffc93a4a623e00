// What the company owes the customer (context_summary's "commitments", oldest first), with one-click
// done and extend (new date + reason) through commitment_update. The version the agent saw travels
// with the change: if someone else changed the promise meanwhile the function answers 409.
import { callFunction } from "./api.js";
import { errorHtml, esc } from "./dom.js";
import { t } from "./i18n.js";

const ACTIVE = ["open", "overdue"];

export function commitmentsHtml(items, error) {
  if (!items || !items.length) return "";
  const rows = items.map((c) => {
    const id = esc(c.commitment_id);
    const late = c.status === "overdue" ? ` <span class="badge warn">${esc(t("commitment.days_late", { days: c.days_overdue }))}</span>` : "";
    return `<li class="commitment" data-commitment="${id}" data-status="${esc(c.status)}">
      <span class="badge${c.status === "overdue" ? " warn" : ""}">${esc(t("commitment.status." + c.status))}</span>
      <strong>${esc(t("owner." + c.owner))}</strong> (${esc(c.queue_code)}): ${esc(c.description)}
      ${c.due ? `<span class="muted">${esc(t("commitment.due"))} ${esc(c.due)}</span>` : ""}${late}
      <div class="commitment-actions">
        <button type="button" data-action="commitment-done" data-id="${id}">${esc(t("commitment.done"))}</button>
        <details><summary>${esc(t("commitment.extend"))}</summary>
          <label>${esc(t("commitment.new_due"))} <input type="date" name="due" min="${esc(c.due || "")}"></label>
          <label>${esc(t("commitment.reason"))} <input type="text" name="reason" maxlength="500"></label>
          <button type="button" data-action="commitment-extend" data-id="${id}">${esc(t("commitment.save"))}</button>
        </details>
      </div>
    </li>`;
  });
  return `<section class="commitments" aria-label="${esc(t("commitment.title"))}">
    <h3>${esc(t("commitment.title"))}</h3><ul>${rows.join("")}</ul>${error ? errorHtml(error) : ""}</section>`;
}

/** Send one change; resolve with the list as it is now (a done promise leaves it). */
export async function changeCommitment(items, id, change, row) {
  const item = items.find((c) => c.commitment_id === id);
  const body = { commitment_id: id, change, expected_version: item.version };
  if (change === "extend") {
    body.due = row.querySelector("input[name=due]").value || null;
    body.reason = row.querySelector("input[name=reason]").value.trim() || null;
  }
  const { data } = await callFunction("commitment_update", body);
  return items.map((c) => (c.commitment_id === id ? data.commitment : c)).filter((c) => ACTIVE.includes(c.status));
}
