"""The browser UI: static files served at `/`, a client of the public /v1beta API only.

Plain JavaScript modules with no build step and no third-party code: `static/app.js` routes
between the views (library, new tuned model, model page, playground), `static/dataset.js`
checks an upload with the server's rules before anything is sent, `static/chart.js` draws
the loss curve as inline SVG. The page signs in with an API key kept in sessionStorage.
"""

from sintonia.web.mount import mount_ui

__all__ = ["mount_ui"]
