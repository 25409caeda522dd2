"""What drives the app from outside, as a user or a class does: a real Chromium (browser), a
slider move timed to the page's last change (latency), and sessions that speak Streamlit's
websocket protocol (protocol, classroom). Used by the tests, the benchmarks and deploy/.
"""
