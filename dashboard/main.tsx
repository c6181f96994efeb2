/** The dashboard's entry: styles (uPlot's and ours, bundled into one hashed stylesheet), the router, the shell. */
import "uplot/dist/uPlot.min.css";
import "./styles/app.css";
import { render } from "preact";
import { App } from "./app.js";
import { startRouter } from "./router.js";

startRouter();
const root = document.getElementById("app");
if (root !== null) render(<App />, root);
