"""What the model is shown of the project: definitions from other files, the class or module around a target."""
