"""Files and voice (issue 31): documents read as text, images for vision models, voice
transcribed through an OpenAI-compatible endpoint, and tool results posted as files."""
