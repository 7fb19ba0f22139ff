package com.example.hello;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Builds greetings from a salutation read from a properties resource. */
public final class Greeter {
    private final String salutation;

    Greeter(String salutation) {
        this.salutation = salutation;
    }

    static Greeter fromResource(String resource) {
        Properties props = new Properties();
        try (InputStream in = Greeter.class.getResourceAsStream(resource)) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Greeter(props.getProperty("salutation", "Hello"));
    }

    String greet(String name) {
        return salutation + ", " + name + "! (from the canonjar example)";
    }
}
