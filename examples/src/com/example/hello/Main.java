package com.example.hello;

/** Entry point: prints a greeting built by {@link Greeter} from a bundled resource. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "world";
        Greeter greeter = Greeter.fromResource("/com/example/hello/greeting.properties");
        System.out.println(greeter.greet(name));
    }
}
