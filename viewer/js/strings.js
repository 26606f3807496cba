// Every catalogue text the viewer shows, in one place so a later change can add English
// (and pick by the page's language). Pure: no DOM, no Cesium.
//
// Values are plain text (set with textContent, never as HTML). `{name}` is replaced by
// t(key, {name: ...}); a function value gets the variables object.

export const sv = {
  "catalogue.heading": "Projekt",
  "catalogue.search": "Sök",
  "catalogue.searchPlaceholder": "Titel, beskrivning, tagg…",
  "catalogue.municipality": "Kommun",
  "catalogue.category": "Kategori",
  "catalogue.status": "Status",
  "catalogue.all": "Alla",
  "catalogue.loading": "Hämtar projekt…",
  "catalogue.count": ({ shown, total }) =>
    shown === total
      ? `${total} projekt`
      : `Visar ${shown} av ${total} projekt (förfina sökningen för att se fler)`,
  "catalogue.empty": "Inga projekt matchar filtret.",
  "catalogue.error": "Projekten kunde inte hämtas: {message}",
  "catalogue.retry": "Försök igen",
  "catalogue.legend": "Teckenförklaring",
  "catalogue.noCategory": "Utan kategori",
  "catalogue.cluster": "{count} projekt – klicka för att zooma in",
  "catalogue.internal": "Intern",
  "catalogue.demo": "(exempeldata)",

  "status.idea": "Idé",
  "status.planned": "Planerat",
  "status.ongoing": "Pågående",
  "status.completed": "Avslutat",
  "status.paused": "Pausat",
  "status.stopped": "Stoppat",

  "card.close": "Stäng projektet",
  "card.status": "Status",
  "card.dates": "Period",
  "card.start": "Start",
  "card.end": "Slut",
  "card.municipalities": "Kommuner",
  "card.categories": "Kategorier",
  "card.partners": "Partner",
  "card.tags": "Taggar",
  "card.contact": "Kontakt",
  "card.links": "Länkar",
  "card.testbed": "Testbädd",
  "card.yes": "Ja",
  "card.public": "Publikt",
  "card.internal": "Internt – syns bara för kommunens personal",
  "card.stale": ({ months }) =>
    months === null ? "Aldrig granskat" : `Inte granskat på ${months} månader`,
  "card.edit": "Redigera",
  "card.zoom": "Visa på kartan",
  "card.noLocation": "Projektet har ingen plats på kartan.",
  "card.loadError": "Projektet kunde inte hämtas: {message}",
  "card.notFound": "Projektet finns inte eller är inte publikt.",
  "card.image": "Bild",
  "card.review": "Fortfarande aktuellt",
  "card.reviewHint": "Markera projektet som granskat",
  "card.reviewing": "Sparar…",
  "card.reviewed": "Markerat som granskat.",
  "card.reviewError": "Projektet kunde inte markeras som granskat: {message}",

  "steward.heading": "Att granska",
  "steward.loading": "Hämtar projekt att granska…",
  "steward.empty": "Inga projekt behöver granskas.",
  "steward.intro": ({ months }) =>
    months ? `Inte granskade på ${months} månader:` : "Inte granskade på länge:",
  "steward.error": "Listan kunde inte hämtas: {message}",

  "auth.login": "Logga in",
  "auth.logout": "Logga ut",
  "auth.email": "E-post",
  "auth.password": "Lösenord",
  "auth.cancel": "Avbryt",
  "auth.loggedInAs": "Inloggad som {name}",
  "auth.failed": "Inloggningen misslyckades: {message}",
  "auth.wrong": "Fel e-post eller lösenord.",
  "auth.tooMany": "För många försök. Vänta en stund och försök igen.",

  "form.add": "Lägg till projekt",
  "form.titleNew": "Nytt projekt",
  "form.titleEdit": "Redigera projekt",
  "form.close": "Stäng formuläret",
  "form.title_sv": "Titel (svenska)",
  "form.title_en": "Titel (engelska)",
  "form.summary_sv": "Sammanfattning",
  "form.description": "Beskrivning (Markdown)",
  "form.municipalities": "Kommuner",
  "form.categories": "Kategorier",
  "form.status": "Status",
  "form.start_date": "Startdatum",
  "form.end_date": "Slutdatum",
  "form.contact": "Kontakt",
  "form.contact_public": "Visa kontakten publikt",
  "form.partners": "Partner (en per rad)",
  "form.links": "Länkar (en per rad: titel | https://…)",
  "form.tags": "Taggar (kommaseparerade)",
  "form.testbed": "Testbädd",
  "form.public": "Publikt (synligt för alla)",
  "form.location": "Plats",
  "form.place": "Placera på kartan",
  "form.move": "Flytta på kartan",
  "form.clearLocation": "Ta bort platsen",
  "form.noLocation": "Ingen plats vald.",
  "form.point": ({ lon, lat, height }) =>
    height === null
      ? `Punkt ${lat}° N, ${lon}° E (på marken)`
      : `Punkt ${lat}° N, ${lon}° E, ${height} m`,
  "form.otherShapes": ({ count }) => `+ ${count} andra former behålls`,
  "form.placing": "Klicka på kartan eller modellen där projektet ska ligga (Esc avbryter).",
  "form.cancelPlacing": "Avbryt",
  "form.save": "Spara",
  "form.saving": "Sparar…",
  "form.cancel": "Avbryt",
  "form.saved": "Projektet sparades.",
  "form.invalid": "Projektet sparades inte: rätta de markerade fälten.",
  "form.conflict": ({ version }) =>
    "Någon annan har sparat projektet medan du redigerade" +
    (version ? ` (nu version ${version})` : "") +
    ". Dina ändringar sparades inte. Ladda om för att se den senaste versionen.",
  "form.reload": "Ladda om projektet",
  "form.forbidden": "Du får inte spara projekt för de valda kommunerna.",
  "form.error": "Projektet sparades inte: {message}",
  "form.loggedOut": "Du är inte längre inloggad. Logga in igen och spara på nytt.",

  "validation.required": "Fyll i fältet.",
  "validation.tooLong": "Texten är för lång (högst {max} tecken).",
  "validation.tooFew": "Välj minst {min}.",
  "validation.tooMany": "För många (högst {max}).",
  "validation.date": "Ogiltigt datum.",
  "validation.choice": "Ogiltigt val.",
};

let table = sv;

/** Use another string table (for tests and a later language switch). */
export function setStrings(strings) {
  table = strings;
}

/** The text for `key` with `{vars}` filled in; the key itself when it is unknown. */
export function t(key, vars = {}) {
  const value = table[key] ?? sv[key];
  if (value === undefined) return key;
  if (typeof value === "function") return value(vars);
  return value.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}
