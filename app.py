"""LRN Explorer: `streamlit run app.py` (or `make run`).

The frame: page navigation; a sidebar with the compute device, presentation mode and "add
this view to my lesson"; and, while a lesson is open, its bar above every page.
The page scripts live in app_pages/, not pages/: a folder named pages/ puts Streamlit
(1.67) into its legacy multipage mode, where a bookmarked /explorer link runs the page
without this frame (streamlit/runtime/scriptrunner/script_runner.py, _mpa_v1).
"""

import streamlit as st
import torch

import lrn_app.serving.startup  # once per process: imports, then gc.freeze(); see there
from lrn_app import pages
from lrn_app.ui import lesson_bar, widgets

if "present" not in st.session_state:  # a bookmarked lesson may open in presentation mode
    st.session_state["present"] = st.query_params.get("present") == "1"
presenting = st.session_state["present"]

# On a projector the figures need the screen: the sidebar starts closed, the page starts at
# the top (Streamlit leaves 6rem above it for its header) and its text is larger.
st.set_page_config(page_title="LRN Explorer", page_icon=widgets.APP_ICON, layout="wide",
                   initial_sidebar_state="collapsed" if presenting else "auto")
if presenting:
    st.html("<style>.stMainBlockContainer {padding-top: 4.5rem; padding-bottom: 2rem}"
            " h1 {font-size: 1.75rem !important; padding: 0 0 0.5rem !important}</style>")

# The pages as lrn_app.pages lists them, the first at the app's root address.
navigation = st.navigation([st.Page(p.script, title=p.title, icon=p.icon, url_path=p.slug,
                                    default=p is pages.PAGES[0]) for p in pages.PAGES])

with st.sidebar:
    if torch.cuda.is_available():
        st.caption(f"Compute device: CUDA ({torch.cuda.get_device_name()})")
        st.checkbox("Force CPU", key="force_cpu")
    else:
        st.caption("Compute device: CPU (no GPU found)")
    st.toggle("Presentation mode", key="present",
              help="Folds the set-up controls, hides the explanations and enlarges the "
                   "figures' text, so the figures get the room (for a projector).")
    lesson_bar.add_view_button(navigation.url_path)

lesson_bar.open_from_address()  # a lesson link or bookmark: open its step
lesson_bar.lesson_bar()  # while a lesson is open, on every page
try:
    navigation.run()
finally:  # also after st.stop() or st.rerun(), which leave by an exception
    lrn_app.serving.startup.freeze_new_imports()
