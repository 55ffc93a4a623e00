"""Language: text to structure, pure functions and models: sentences and spaCy pipelines, language
detection, clause analysis for next steps, summarization, due dates, intents and sentiment. A module
here never branches on a language code: per-language knowledge is data (config) or one analyzer per
language.
"""
