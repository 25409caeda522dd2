# One LRN Explorer server: stateless apart from each websocket's session (see
# docs/classroom.md, "Several replicas behind nginx"). Build and run:
#   docker build -t lrn-explorer .
#   docker run --rm -p 8501:8501 lrn-explorer
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
# The CPU build of torch first (about 200 MB instead of several GB of CUDA libraries);
# requirements.txt then finds its torch==2.13.0 already installed.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install -r requirements.txt

COPY .streamlit .streamlit
COPY lrn_core lrn_core
COPY lrn_lab lrn_lab
COPY lrn_app lrn_app
COPY app_pages app_pages
COPY static static
COPY app.py .
# plotly.js for the live view, from the installed package, while /app is still writable
# (the app copies it at start-up where it is missing; the app user cannot write here).
RUN python -c "from lrn_app.serving.static import serve_plotly_js; serve_plotly_js()"

RUN useradd --create-home --uid 10001 app
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address=0.0.0.0", \
     "--server.port=8501", "--server.headless=true", "--browser.gatherUsageStats=false"]
