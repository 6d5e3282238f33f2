/**
 * The site's static files, served from memory (no inline script or style: the CSP allows
 * 'self' only). site.js fills each form's client id (crypto.randomUUID, kept for the life
 * of the page, so a second submit of the same form is the same event) and posts the form
 * with fetch; without JavaScript the form posts normally and the server refuses it for the
 * missing client id (a clear 400 page).
 */
const SITE_JS = `"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-site-form]").forEach(function (form) {
    form.elements.namedItem("client_id").value = crypto.randomUUID();
    form.elements.namedItem("page").value = location.pathname.replace(/^.*?\\/site(?=\\/|$)/, "") || "/";
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var status = form.querySelector("[data-form-status]");
      status.textContent = "Sending...";
      fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (x) {
          status.textContent = x.ok ? x.j.message : (x.j.detail || x.j.title || "Something went wrong");
          status.dataset.state = x.ok ? (x.j.replayed ? "replayed" : "sent") : "refused";
        })
        .catch(function () { status.textContent = "Network error: please try again"; status.dataset.state = "error"; });
    });
  });
});
`;

const SITE_CSS = `body{font-family:system-ui,sans-serif;margin:0;color:#1b2430;line-height:1.55}
header,footer{display:flex;gap:1.5rem;align-items:center;justify-content:space-between;padding:1rem 2rem;background:#0f2a44;color:#fff}
header a,footer a{color:#fff;margin-right:1rem}.brand{font-weight:700;text-decoration:none;display:flex;gap:.5rem;align-items:center}
main{max-width:60rem;margin:0 auto;padding:2rem}h1{font-size:2.2rem;line-height:1.2}.lead{font-size:1.2rem}
img{max-width:100%;height:auto}.plans{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}
.plan{border:1px solid #c9d3de;border-radius:.5rem;padding:1rem}.price{font-size:1.3rem;font-weight:700}
.site-form{display:grid;gap:.6rem;max-width:28rem;padding:1rem;border:1px solid #c9d3de;border-radius:.5rem}
.site-form label{display:grid;gap:.2rem}.site-form input,.site-form select{padding:.45rem;font:inherit}
.site-form button{padding:.6rem;background:#1565c0;color:#fff;border:0;border-radius:.3rem;font:inherit}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
`;

const svg = (body: string, w: number, h: number) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${body}</svg>`;
const LOGO = svg(`<rect width="32" height="32" rx="6" fill="#1565c0"/><path d="M6 22h20M6 16h20M10 10h12" stroke="#fff" stroke-width="3"/>`, 32, 32);
const HERO = svg(`<rect width="1200" height="630" fill="#0f2a44"/><g stroke="#4fc3f7" stroke-width="6" fill="none"><path d="M100 500 C400 100 800 600 1100 150"/><path d="M100 300 H1100"/></g><g fill="#fff"><circle cx="100" cy="500" r="18"/><circle cx="600" cy="300" r="18"/><circle cx="1100" cy="150" r="18"/></g>`, 1200, 630);

export const ASSETS = new Map<string, { body: string; type: string }>([
  ["/site.js", { body: SITE_JS, type: "text/javascript; charset=utf-8" }],
  ["/site.css", { body: SITE_CSS, type: "text/css; charset=utf-8" }],
  ["/img/logo.svg", { body: LOGO, type: "image/svg+xml" }],
  ["/img/hero.svg", { body: HERO, type: "image/svg+xml" }],
]);
