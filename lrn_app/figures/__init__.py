"""Plotly figures for the app: plain functions from arrays to figures, no Streamlit.

look: the theme and how a figure is built; encode: arrays as images; maps: feature maps;
charts: numbers; sweeps: the scrub views' sweeps.
"""
