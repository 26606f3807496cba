// The project card: one project's details. DOM only. description_html is the server's
// sanitised HTML and the only thing inserted as HTML; everything else is textContent.
import { el, htmlFragment, safeHref } from "./dom.js";
import { formatDay, t } from "./strings.js";

/**
 * @param {Document} doc
 * @param {{onClose: () => void, onEdit: (project) => void, onZoom: (project) => void,
 *          onReview: (project) => void}} handlers
 */
export function createProjectCard(doc, handlers) {
  const panel = doc.getElementById("project-card");
  const title = doc.getElementById("card-title");
  const body = doc.getElementById("card-body");
  doc.getElementById("card-close").addEventListener("click", () => handlers.onClose());

  function row(label, value) {
    if (value === null || value === undefined || value === "") return null;
    const dd = el(doc, "dd");
    if (value instanceof doc.defaultView.Node) dd.append(value);
    else dd.textContent = String(value);
    return el(doc, "div", { className: "row" }, [el(doc, "dt", { text: label }), dd]);
  }

  function links(list) {
    const items = (list || [])
      .map((l) => {
        const href = safeHref(l?.url);
        if (!href) return null;
        const a = el(doc, "a", {
          text: l.title || l.url,
          attrs: { href, target: "_blank", rel: "noopener noreferrer" },
        });
        return el(doc, "li", {}, [a]);
      })
      .filter(Boolean);
    return items.length ? el(doc, "ul", { className: "card-links" }, items) : null;
  }

  function images(project, imageUrl) {
    const figures = (project.images || []).map((img) => {
      const image = el(doc, "img", {
        attrs: {
          src: imageUrl(project.id, img.id),
          alt: img.caption || t("card.image"),
          loading: "lazy",
          width: Number.isFinite(img.width) ? img.width : undefined,
          height: Number.isFinite(img.height) ? img.height : undefined,
        },
      });
      return el(doc, "figure", { className: "card-image" }, [
        image,
        img.caption ? el(doc, "figcaption", { text: img.caption }) : null,
      ]);
    });
    return figures.length ? el(doc, "div", { className: "card-images" }, figures) : null;
  }

  function badges(project, { staff, staleMonths }) {
    const out = [el(doc, "span", { className: `badge status-${project.status}`, text: t(`status.${project.status}`) })];
    if (staff && !project.public) {
      out.push(el(doc, "span", { className: "badge internal", text: t("card.internal") }));
    }
    if (staff && project.stale) {
      out.push(el(doc, "span", { className: "badge stale", text: t("card.stale", { months: staleMonths }) }));
    }
    if (project.testbed) out.push(el(doc, "span", { className: "badge", text: t("card.testbed") }));
    return el(doc, "p", { className: "badges" }, out);
  }

  return {
    /**
     * @param {object} project ProjectOut
     * @param {{municipalityName, categoryName, colorOf, imageUrl, canEdit: boolean,
     *          staff: boolean, staleMonths: number|null, hasLocation: boolean,
 *          message?: {text: string, error?: boolean}}} ctx
     */
    show(project, ctx) {
      title.textContent = project.title_sv;
      const description = el(doc, "div", { className: "card-description" });
      // The server renders Markdown and sanitises it (nh3): the one HTML the card shows,
      // parsed inertly and filtered again to the same tags.
      description.append(htmlFragment(doc, project.description_html));
      const dates = [project.start_date, project.end_date].some(Boolean)
        ? `${formatDay(project.start_date) || "…"} – ${formatDay(project.end_date) || "…"}`
        : null;
      const cats = el(doc, "span", { className: "card-categories" });
      for (const key of project.categories || []) {
        const sw = el(doc, "span", { className: "swatch", attrs: { "aria-hidden": "true" } });
        sw.style.background = ctx.colorOf({ categories: [key] });
        cats.append(el(doc, "span", { className: "card-category" }, [sw, el(doc, "span", { text: ctx.categoryName(key) })]));
      }
      const actions = el(doc, "p", { className: "card-actions" });
      if (ctx.hasLocation) {
        const zoom = el(doc, "button", { className: "button secondary", text: t("card.zoom"), attrs: { type: "button" } });
        zoom.addEventListener("click", () => handlers.onZoom(project));
        actions.append(zoom);
      }
      if (ctx.canEdit) {
        const edit = el(doc, "button", { className: "button", text: t("card.edit"), attrs: { type: "button", id: "card-edit" } });
        edit.addEventListener("click", () => handlers.onEdit(project));
        actions.append(edit);
        // "Still current": marks the project reviewed (the stale badge goes away).
        const review = el(doc, "button", {
          className: "button secondary",
          text: t("card.review"),
          attrs: { type: "button", id: "card-review", title: t("card.reviewHint") },
        });
        review.addEventListener("click", () => {
          review.disabled = true;
          review.textContent = t("card.reviewing");
          handlers.onReview(project);
        });
        actions.append(review);
      }
      // A confirmation (role=status) or an error (role=alert) under the actions.
      const message = ctx.message
        ? el(doc, "p", {
            className: ctx.message.error ? "inline-error card-message" : "muted card-message",
            text: ctx.message.text,
            attrs: { id: "card-message", role: ctx.message.error ? "alert" : "status" },
          })
        : null;
      const rows = el(doc, "dl", { className: "rows" }, [
        row(t("card.dates"), dates),
        row(t("card.municipalities"), (project.municipalities || []).map(ctx.municipalityName).join(", ")),
        (project.categories || []).length ? row(t("card.categories"), cats) : null,
        row(t("card.partners"), (project.partners || []).join(", ")),
        row(t("card.tags"), (project.tags || []).join(", ")),
        row(t("card.contact"), project.contact),
        row(t("card.links"), links(project.links)),
      ]);
      body.replaceChildren(
        ...[
          badges(project, ctx),
          project.summary_sv ? el(doc, "p", { className: "card-summary", text: project.summary_sv }) : null,
          images(project, ctx.imageUrl),
          description.childNodes.length ? description : null,
          rows,
          ctx.hasLocation ? null : el(doc, "p", { className: "muted", text: t("card.noLocation") }),
          actions.childNodes.length ? actions : null,
          message,
        ].filter(Boolean),
      );
      panel.dataset.project = String(project.id);
      panel.hidden = false;
      panel.scrollTop = 0;
    },
    /** A card that could not be loaded (deep link to an internal or missing project). */
    showError(message) {
      title.textContent = "";
      body.replaceChildren(el(doc, "p", { className: "inline-error", text: message, attrs: { role: "alert" } }));
      delete panel.dataset.project;
      panel.hidden = false;
    },
    hide() {
      const hadFocus = panel.contains(doc.activeElement);
      panel.hidden = true;
      delete panel.dataset.project;
      return hadFocus;
    },
    get open() {
      return !panel.hidden;
    },
    focus() {
      doc.getElementById("card-close").focus({ preventScroll: true });
    },
  };
}
