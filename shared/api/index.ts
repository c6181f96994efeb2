/** The admin API's answer shapes, types only (docs/api.md); shared by the edge and the dashboard. */
export type * from "./views.js";
