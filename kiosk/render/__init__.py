"""Drawing with pygame-ce: fonts, text layout, slides, themes, ticker, rotation."""
