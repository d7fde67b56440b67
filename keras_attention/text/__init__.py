"""Text processing with tensorflow-text: normalise, tokenise, look up ids."""

from keras_attention.text.vectorizer import TextVectorizer
