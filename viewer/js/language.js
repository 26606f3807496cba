// The page in the chosen language: <html lang>, the texts index.html marks with data-text /
// data-label / data-placeholder, and the language switch. DOM only; the choice itself is
// made in strings.js. Switching reloads the page (see switchLanguage).
import { applyStrings } from "./dom.js";
import { language, switchLanguage, t } from "./strings.js";

/** The other language: what the switch offers. */
export function otherLanguage(lang) {
  return lang === "en" ? "sv" : "en";
}

/** @param {Document} doc */
export function initLanguage(doc) {
  doc.documentElement.lang = language;
  applyStrings(doc);
  const button = doc.getElementById("lang-switch");
  if (button) {
    const target = otherLanguage(language);
    button.lang = target; // the button's text is in the language it switches to
    button.title = t("lang.switchTitle");
    button.addEventListener("click", () => switchLanguage(target, doc.defaultView));
  }
  return language;
}
