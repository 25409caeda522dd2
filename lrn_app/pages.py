"""The app's pages, listed once. app.py builds its navigation from this list, a lesson's step
names its page by slug, and each page keeps its widgets' state under its own key prefix.

Adding a page: its script in app_pages/, its controls in lrn_app.state (if it has any), and a
line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from lrn_app.state import Claims, Compare, Conventions, Explorer, Gradients, Training


@dataclass(frozen=True)
class Page:
    slug: str  # its address, /<slug>; the first page is the app's front page, at /
    title: str
    icon: str  # one of Streamlit's Material icons (shipped with Streamlit, not fetched)
    script: str  # relative to the repository's root
    state: type | None = None  # its controls (lrn_app.state), kept in the address
    prefix: str = ""  # its widgets' keys in session state: prefix + a field of ``state``


PAGES = (
    Page("home", "Home", ":material/home:", "app_pages/home.py"),
    Page("explorer", "LRN Explorer", ":material/tune:", "app_pages/explorer.py", Explorer, "x_"),
    Page("gradients", "Gradients", ":material/trending_down:", "app_pages/gradients.py",
         Gradients, "g_"),
    Page("compare", "LRN vs BatchNorm", ":material/compare:", "app_pages/compare.py", Compare,
         "b_"),
    Page("conventions", "Conventions", ":material/translate:", "app_pages/conventions.py",
         Conventions, "c_"),
    Page("training", "Training lab", ":material/model_training:", "app_pages/training.py",
         Training, "t_"),
    Page("claims", "Claims lab", ":material/fact_check:", "app_pages/claims.py", Claims, "cl_"),
    Page("lessons", "Lessons", ":material/school:", "app_pages/lessons.py"),
)
BY_SLUG = {page.slug: page for page in PAGES}
# The pages whose settings live in the address: the ones a lesson's step can open.
WITH_STATE = {page.slug: page for page in PAGES if page.state is not None}


def get(slug: str) -> Page:
    return BY_SLUG[slug]
