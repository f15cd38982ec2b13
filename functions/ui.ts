/**
 * GET|POST /ui/...
 *
 * The web dashboard (core/ui/app.tsx): sign-in with a token or site credentials, apps with
 * live stats and actions, one app's log and uptime chart, images, nodes, the audit log and the
 * user's tokens. Answers HTML pages, its own CSS and JS, and 303 after each POST.
 *
 * Failures: a page without a live session answers 303 to the sign-in page; a POST without the
 * session's CSRF token, or from another origin, answers 403.
 */
import { buildUi } from '../core/ui/app.tsx';

const ui = buildUi();

export default { fetch: (req: Request) => ui.fetch(req) };
