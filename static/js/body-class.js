// Tell GOV.UK Frontend's styles that JavaScript runs, before the page is drawn. A static file
// rather than the usual inline snippet, so the Content-Security-Policy can forbid inline script.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
