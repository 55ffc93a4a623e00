"""Engine: prompts (versioned files and their taxonomy checks), prompt experiments, the model
interface, the Vertex AI (Gemini) engine and the deterministic offline engine.
"""
