"""Page numbers for the API's lists: 50 a page by default, at most 200."""

from rest_framework.pagination import PageNumberPagination


class StagePagination(PageNumberPagination):
    """Pages of `page_size` items (default 50, at most 200), picked with `page`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
