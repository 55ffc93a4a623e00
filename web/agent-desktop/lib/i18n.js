// Labels per language (i18n/<lang>.json); panels re-render on the "cx-language" event.
export const LANGUAGES = ["en", "de"];
const tables = {};
let active = "en";

async function fetchTable(lang) {
  if (!tables[lang]) {
    const resp = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url));
    tables[lang] = resp.ok ? await resp.json() : {};
  }
  return tables[lang];
}

export function language() {
  return active;
}

/** Switch the label language; every mounted panel re-renders. */
export async function setLanguage(lang) {
  const chosen = LANGUAGES.includes(lang) ? lang : "en";
  await Promise.all([fetchTable("en"), fetchTable(chosen)]);
  active = chosen;
  document.documentElement.lang = chosen;
  document.dispatchEvent(new CustomEvent("cx-language", { detail: { language: chosen } }));
  return chosen;
}

/** The label for key in the active language ({name} placeholders filled from vars). */
export function t(key, vars = {}) {
  const text = (tables[active] && tables[active][key]) ?? (tables.en && tables.en[key]) ?? key;
  return String(text).replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A readable label for a machine code ("topic:legal_threat"), the code itself when unknown. */
export function label(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? code : text;
}
