import "@xyflow/react/dist/base.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import "./styles.css";
import { takeHashToken } from "./url.js";

// The token of a `#token=` link leaves the URL before anything renders.
const token = takeHashToken();
const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <App initialToken={token} />
  </StrictMode>,
);
