import { render } from "preact";
import { App } from "./app/App";
import { startEarlyReads } from "./app/boot";
import { decodeView } from "./app/url";
import "./styles.css";

// Data first: the reads the page will make start before any rendering or further code.
startEarlyReads(decodeView(window.location.search));
const root = document.getElementById("app");
if (root) render(<App />, root);
