# StagePlay: a slim image that serves the stage with uvicorn.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STAGEPLAY_DATA_DIR=/data
WORKDIR /app

COPY requirements.txt .
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY . .
RUN python manage.py collectstatic --noinput -v 0

VOLUME /data
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py load_cast && uvicorn --host 0.0.0.0 --port 8000 stageplay.asgi:application"]
