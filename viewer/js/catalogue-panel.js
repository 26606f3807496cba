// The catalogue section of the side panel: account line, filter, count, list, legend.
// DOM only; every text from the API goes in as textContent.
import { STATUSES } from "./catalogue-query.js";
import { demoLabel } from "./catalogue-style.js";
import { el, setOptions } from "./dom.js";
import { localName, t } from "./strings.js";

const SEARCH_DELAY_MS = 300;

/**
 * @param {Document} doc
 * @param {{onFilter: (filter) => void, onOpen: (id: number) => void, onRetry: () => void,
 *          onLogin: () => void, onLogout: () => void, onAdd: () => void,
 *          onReview: (id: number) => void}} handlers
 */
export function createCataloguePanel(doc, handlers) {
  const section = doc.getElementById("catalogue");
  const form = doc.getElementById("catalogue-filter");
  const q = doc.getElementById("filter-q");
  const municipality = doc.getElementById("filter-municipality");
  const category = doc.getElementById("filter-category");
  const status = doc.getElementById("filter-status");
  const count = doc.getElementById("catalogue-count");
  const error = doc.getElementById("catalogue-error");
  const errorText = doc.getElementById("catalogue-error-text");
  const list = doc.getElementById("project-list");
  const legend = doc.getElementById("legend-list");
  const accountName = doc.getElementById("account-name");
  const login = doc.getElementById("login-button");
  const logout = doc.getElementById("logout-button");
  const add = doc.getElementById("add-project");
  const steward = doc.getElementById("steward");
  const stewardStatus = doc.getElementById("steward-status");
  const stewardList = doc.getElementById("steward-list");
  let timer = 0;

  const filter = () => ({
    q: q.value,
    municipality: municipality.value,
    category: category.value,
    status: status.value,
  });
  const changed = () => handlers.onFilter(filter());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(timer);
    changed();
  });
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(changed, SEARCH_DELAY_MS);
  });
  for (const select of [municipality, category, status]) select.addEventListener("change", changed);
  doc.getElementById("catalogue-retry").addEventListener("click", () => handlers.onRetry());
  login.addEventListener("click", () => handlers.onLogin());
  logout.addEventListener("click", () => handlers.onLogout());
  add.addEventListener("click", () => handlers.onAdd());
  // Keyboard users move through the list with the arrow keys.
  list.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const buttons = [...list.querySelectorAll("button.project-item")];
    const i = buttons.indexOf(doc.activeElement);
    if (i < 0) return;
    e.preventDefault();
    buttons[Math.min(buttons.length - 1, Math.max(0, i + (e.key === "ArrowDown" ? 1 : -1)))].focus();
  });

  function item(p, { colorOf, categoryName, municipalityName, user }) {
    const button = el(doc, "button", {
      className: "project-item",
      attrs: { type: "button", "data-project": p.id },
    });
    const swatch = el(doc, "span", { className: "swatch", attrs: { "aria-hidden": "true" } });
    swatch.style.background = colorOf(p);
    const text = el(doc, "span", { className: "project-text" }, [
      el(doc, "span", { className: "project-title", text: p.title_sv }),
      el(doc, "span", {
        className: "project-meta",
        text: [
          t(`status.${p.status}`),
          (p.municipalities || []).map(municipalityName).join(", "),
          (p.categories || []).map(categoryName).join(", "),
        ]
          .filter(Boolean)
          .join(" · "),
      }),
    ]);
    button.append(swatch, text);
    if (user && !p.public) {
      button.append(el(doc, "span", { className: "badge internal", text: t("catalogue.internal") }));
    }
    button.addEventListener("click", () => handlers.onOpen(p.id));
    return el(doc, "li", { attrs: { "data-project": p.id } }, [button]);
  }

  return {
    /** Fill the filter's choices once municipalities and categories are known. */
    setChoices({ municipalities, categories }) {
      const all = { value: "", text: t("catalogue.all") };
      setOptions(doc, municipality, [
        all,
        ...municipalities.map((m) => ({
          value: m.code,
          text: demoLabel(m),
        })),
      ]);
      setOptions(doc, category, [
        all,
        ...categories.map((c) => ({ value: c.key, text: localName(c) })),
      ]);
      setOptions(doc, status, [all, ...STATUSES.map((s) => ({ value: s, text: t(`status.${s}`) }))]);
      section.hidden = false;
    },
    filter,
    loading() {
      count.textContent = t("catalogue.loading");
      section.setAttribute("aria-busy", "true");
    },
    showError(message) {
      section.removeAttribute("aria-busy");
      errorText.textContent = t("catalogue.error", { message });
      error.hidden = false;
      count.textContent = "";
    },
    /** The list and legend for one query's answer. */
    render({ projects, total, legendRows, ...style }) {
      section.removeAttribute("aria-busy");
      error.hidden = true;
      count.textContent = projects.length
        ? t("catalogue.count", { shown: projects.length, total })
        : t("catalogue.empty");
      list.replaceChildren(...projects.map((p) => item(p, style)));
      legend.replaceChildren(
        ...legendRows.map((row) => {
          const swatch = el(doc, "span", { className: "swatch", attrs: { "aria-hidden": "true" } });
          swatch.style.background = row.color;
          return el(doc, "li", { attrs: { "data-category": row.key ?? "" } }, [
            swatch,
            el(doc, "span", { text: row.name }),
            el(doc, "span", { className: "legend-count", text: `(${row.count})` }),
          ]);
        }),
      );
    },
    /** Mark the open project in the list. */
    markOpen(id) {
      for (const b of list.querySelectorAll("button.project-item")) {
        const open = Number(b.dataset.project) === id;
        b.classList.toggle("open", open);
        if (open) b.setAttribute("aria-current", "true");
        else b.removeAttribute("aria-current");
      }
    },
    /**
     * The steward list ("Att granska"): null hides it; else {loading} or {error} or
     * {projects, months}, each row the title (opens the card) and "Fortfarande aktuellt".
     */
    renderSteward(view) {
      steward.hidden = !view;
      if (!view) {
        stewardList.replaceChildren();
        stewardStatus.textContent = "";
        return;
      }
      stewardStatus.classList.toggle("inline-error", Boolean(view.error));
      if (view.loading) {
        steward.setAttribute("aria-busy", "true");
        stewardStatus.textContent = t("steward.loading");
        return;
      }
      steward.removeAttribute("aria-busy");
      if (view.error) {
        stewardStatus.textContent = t("steward.error", { message: view.error });
        stewardList.replaceChildren();
        return;
      }
      const projects = view.projects || [];
      stewardStatus.textContent = projects.length
        ? t("steward.intro", { months: view.months })
        : t("steward.empty");
      stewardList.replaceChildren(
        ...projects.map((p) => {
          const title = el(doc, "button", {
            className: "steward-title",
            text: p.title_sv,
            attrs: { type: "button" },
          });
          title.addEventListener("click", () => handlers.onOpen(p.id));
          const review = el(doc, "button", {
            className: "button secondary steward-review",
            text: t("card.review"),
            attrs: { type: "button", title: t("card.reviewHint") },
          });
          review.addEventListener("click", () => {
            review.disabled = true;
            handlers.onReview(p.id);
          });
          return el(doc, "li", { attrs: { "data-project": p.id } }, [title, review]);
        }),
      );
    },
    /** A review of a steward row failed: the row's button again, the error inline. */
    stewardError(id, message) {
      const li = stewardList.querySelector(`li[data-project="${Number(id)}"]`);
      li?.querySelector("button.steward-review")?.removeAttribute("disabled");
      stewardStatus.classList.add("inline-error");
      stewardStatus.textContent = message;
    },
    setUser(user, { canAdd }) {
      accountName.textContent = user ? t("auth.loggedInAs", { name: user.name }) : "";
      login.hidden = Boolean(user);
      logout.hidden = !user;
      add.hidden = !canAdd;
    },
  };
}
