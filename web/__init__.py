"""Pages for drafters (web.public) and curators (web.curator), with the Jinja templates and local static
assets they share; web.security, web.errors, web.field_names and web.charts serve both."""
