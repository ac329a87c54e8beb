import { Auth0Provider } from "@auth0/nextjs-auth0";
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { auth0 } from "@/lib/auth0";
import { ConvexClientProvider } from "./ConvexClientProvider";

export const metadata: Metadata = {
  title: "Teams",
  description: "Projects and tasks for your organization",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await auth0.getSession();
  return (
    <html lang="en">
      <body>
        <Auth0Provider user={session?.user}>
          <ConvexClientProvider>{children}</ConvexClientProvider>
        </Auth0Provider>
      </body>
    </html>
  );
}
