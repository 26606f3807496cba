// The logged-in user as /api/auth/me and /api/auth/login describe it, and what they may
// do in the viewer (the server decides; this only hides buttons). Pure: no DOM, no Cesium.

function codesOf(roles, wanted) {
  const out = new Set();
  if (Array.isArray(roles)) {
    for (const r of roles) {
      if (!r || typeof r !== "object" || r.role !== wanted) continue;
      const code = r.municipality ?? r.municipality_code ?? r.code;
      if (typeof code === "string" && code) out.add(code);
    }
  } else if (roles && typeof roles === "object") {
    // twin's shape: {"1283": ["editor", "gis"]}; also {editor: ["1283"]}.
    for (const [key, value] of Object.entries(roles)) {
      if (!Array.isArray(value)) continue;
      if (key === wanted) {
        for (const code of value) if (typeof code === "string" && code) out.add(code);
      } else if (value.includes(wanted)) {
        out.add(key);
      }
    }
  }
  return [...out].sort();
}

/** null for anonymous, else {id, email, name, isAdmin, editorOf, gisOf, csrfToken}. */
export function parseUser(json) {
  if (!json || typeof json !== "object" || json.authenticated === false) return null;
  const u = json.user && typeof json.user === "object" ? { ...json, ...json.user } : json;
  if (typeof u.email !== "string" && u.id === undefined) return null;
  return {
    id: u.id ?? null,
    email: typeof u.email === "string" ? u.email : "",
    name:
      typeof u.display_name === "string" && u.display_name
        ? u.display_name
        : typeof u.email === "string"
          ? u.email
          : "",
    isAdmin: u.is_admin === true,
    editorOf: codesOf(u.roles, "editor"),
    gisOf: codesOf(u.roles, "gis"),
    csrfToken: typeof (json.csrf_token ?? u.csrf_token) === "string" ? (json.csrf_token ?? u.csrf_token) : null,
  };
}

/** May create projects (for at least one municipality). */
export function canCreate(user) {
  return Boolean(user && (user.isAdmin || user.editorOf.length));
}

/** May edit this project (editor of one of its municipalities, or admin). */
export function canEdit(user, project) {
  if (!user || !project) return false;
  if (user.isAdmin) return true;
  return (project.municipalities || []).some((c) => user.editorOf.includes(c));
}

/** Staff of the project's municipalities (sees internal fields and staleness). */
export function isStaff(user, project) {
  if (!user || !project) return false;
  if (user.isAdmin) return true;
  const staff = new Set([...user.editorOf, ...user.gisOf]);
  return (project.municipalities || []).some((c) => staff.has(c));
}

/** Whole months since an ISO date-time, or null when there is none. */
export function monthsSince(iso, now = new Date()) {
  if (typeof iso !== "string" || !iso) return null;
  const then = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(then.getTime())) return null;
  return Math.max(0, Math.floor((now - then) / (30.44 * 24 * 3600 * 1000)));
}

/**
 * The municipalities whose steward list ("Att granska") the user sees: those they edit;
 * an administrator sees every known municipality's.
 */
export function stewardCodes(user, municipalities = []) {
  if (!user) return [];
  if (user.isAdmin) {
    const all = (municipalities || []).map((m) => m?.code).filter((c) => typeof c === "string" && c);
    return [...new Set([...all, ...user.editorOf])].sort();
  }
  return [...user.editorOf];
}

/**
 * The answers of /api/municipalities/{code}/stale ({items: ProjectOut[]}) as one list:
 * each project once (it may belong to several municipalities), least recently reviewed
 * first (since the last review, else since creation, as the server counts).
 */
export function mergeStale(answers) {
  const byId = new Map();
  for (const answer of answers || []) {
    for (const p of Array.isArray(answer?.items) ? answer.items : []) {
      if (p && p.id !== undefined && !byId.has(p.id)) byId.set(p.id, p);
    }
  }
  const since = (p) => {
    const iso = p.last_reviewed_at || p.created_at;
    const ms = typeof iso === "string" ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`) : NaN;
    return Number.isNaN(ms) ? -Infinity : ms;
  };
  return [...byId.values()].sort((a, b) => since(a) - since(b) || a.id - b.id);
}

/** GIS staff (of any municipality) and administrators manage layers; nobody else. */
export function canManageLayers(user) {
  return Boolean(user && (user.isAdmin || (Array.isArray(user.gisOf) && user.gisOf.length)));
}
