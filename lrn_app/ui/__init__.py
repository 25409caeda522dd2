"""The only part of lrn_app that imports Streamlit: what a session holds (session), the
pages' cached computations (cached), the shared widgets (widgets) and the lesson bar
(lesson_bar).
"""
