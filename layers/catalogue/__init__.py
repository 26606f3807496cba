"""The shared catalogue of smart-city projects: models, rules, queries, import/export."""
