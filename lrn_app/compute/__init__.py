"""What each page computes, from plain values to plain results: no Streamlit, no figures
built here except the scrub views' sweeps (lrn_app.figures.sweeps draws them).
"""
