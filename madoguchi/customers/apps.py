from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "madoguchi.customers"
    label = "customers"
    verbose_name = "お客様"

    def ready(self) -> None:
        from madoguchi.cases import page
        from madoguchi.customers import services

        # The same-person warning on the case page: asked with the case, read only when there is one.
        page.CASE_PAGE_EXISTS["possible_match"] = services.matches_of_page_case
